/**
 * The offline preview: runs a Pulumi program for a stack under mocks (no Azure, no Pulumi CLI),
 * prints what `pulumi up` would create, then evaluates the policy pack on it.
 *
 *   npm run preview:offline -- [--stack NAME] [--program FILE] [--config KEY=VALUE]... [--policy-config FILE]
 *
 * Exit codes: 0 clean (advisories allowed), 1 a mandatory policy is violated or the program failed,
 * 2 a usage or configuration mistake (the message says what to fix).
 *
 * Its parts: scripts/preview/ (the command line, the report), testkit/stackConfig.ts (the stack's
 * config as the CLI applies it) and testkit/programRun.ts (the program under mocks), which the
 * program's own tests share.
 */
import * as fs from "fs";
import * as path from "path";
import { PolicyConfigInput, Violation, evaluatePolicies, hasMandatory } from "../policy/evaluate";
import { policies } from "../policy/policies";
import { ProgramError, ProgramRun, runProgram } from "../testkit/programRun";
import { ProjectConfig, StackConfigError, loadConfig } from "../testkit/stackConfig";
import { Options, USAGE, UsageError, loadPolicyConfig, parseArgs } from "./preview/args";
import { renderOutputs, renderPolicyReport, renderSummary, renderTree } from "./preview/report";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface PreviewResult {
  exitCode: number;
  violations: Violation[];
  run?: ProgramRun;
}

export async function previewOffline(
  argv: string[],
  out: (line: string) => void,
  err: (line: string) => void,
  cwd = process.cwd(),
): Promise<PreviewResult> {
  let opts: Options;
  let cfg: ProjectConfig;
  let programFile: string;
  let policyConfig: PolicyConfigInput | undefined;
  try {
    opts = parseArgs(argv);
    if (opts.help) {
      out(USAGE);
      return { exitCode: EXIT_OK, violations: [] };
    }
    programFile = path.resolve(cwd, opts.program);
    if (!fs.existsSync(programFile))
      throw new UsageError(
        `--program ${opts.program} not found (looked at ${programFile}): pass a .ts or .js Pulumi program`,
      );
    cfg = loadConfig(cwd, opts.stack, opts.config);
    policyConfig = loadPolicyConfig(opts.policyConfig && path.resolve(cwd, opts.policyConfig));
  } catch (e) {
    if (e instanceof UsageError || e instanceof StackConfigError) {
      err(`error: ${e.message}`);
      return { exitCode: EXIT_USAGE, violations: [] };
    }
    throw e;
  }
  for (const w of cfg.warnings) err(`warning: ${w}`);

  out(
    `Previewing (offline, mocks) stack ${opts.stack} of project ${cfg.project}: ${path.relative(cwd, programFile) || programFile}`,
  );
  out("");
  let run: ProgramRun;
  try {
    run = await runProgram(programFile, cfg, opts.stack);
  } catch (e) {
    if (e instanceof ProgramError) {
      err(`error: the program failed:\n${e.message}`);
      return { exitCode: EXIT_FAILED, violations: [] };
    }
    throw e;
  }

  for (const line of renderTree(run.resources)) out(line);
  out("");
  out(`Resources: + ${run.resources.length} to create`);
  out("");
  for (const line of renderSummary(run, cfg.values[`${cfg.project}:delivery`])) out(line);
  for (const line of renderOutputs(run)) out(line);
  out("");

  const violations = await evaluatePolicies(policies, run.resources, { config: policyConfig });
  for (const line of renderPolicyReport(violations, policies.length)) out(line);
  return { exitCode: hasMandatory(violations) ? EXIT_FAILED : EXIT_OK, violations, run };
}

if (require.main === module) {
  previewOffline(
    process.argv.slice(2),
    (l) => process.stdout.write(l + "\n"),
    (l) => process.stderr.write(l + "\n"),
  )
    .then((r) => process.exit(r.exitCode))
    .catch((e) => {
      // A bug in this tool, not a user mistake: keep the detail.
      process.stderr.write(`internal error in preview-offline: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(EXIT_FAILED);
    });
}
