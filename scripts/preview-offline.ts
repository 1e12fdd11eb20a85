/**
 * The offline preview: runs a Pulumi program for a stack under mocks (no Azure, no Pulumi CLI),
 * prints what `pulumi up` would create, then evaluates the policy pack on it.
 *
 *   npm run preview:offline -- [--stack NAME] [--program FILE] [--config KEY=VALUE]... [--policy-config FILE]
 *
 * Exit codes: 0 clean (advisories allowed), 1 a mandatory policy is violated or the program failed,
 * 2 a usage or configuration mistake (the message says what to fix).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as YAML from "yaml";
import {
  KEPT_FILE_PATH,
  MAX_CUSTOM_DATA_BYTES,
  READER_ROLE_DEFINITION_GUID,
  WAITER_PATH,
  WORKER_UNIT,
} from "../components/defaults";
import { installMocks, ResourceRecorder } from "../testkit/pulumiMocks";
import {
  PolicyConfigInput,
  ResourceSnapshot,
  Violation,
  evaluatePolicies,
  formatViolation,
  hasMandatory,
  toPolicyResources,
} from "../policy/evaluate";
import {
  decodeCustomData,
  isRoleAssignmentType,
  isScaleSetType,
  linkRoleAssignments,
  policies,
  roleDefinitionGuid,
} from "../policy/policies";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A program that has not finished registering after this long is stuck on an Output that never resolves. */
const PROGRAM_TIMEOUT_MS = 120_000;
const DEFAULT_STACK = "dev";
const DEFAULT_PROGRAM = "index.ts";
const STACK_TYPE = "pulumi:pulumi:Stack";
/** Where cloud-init runs per-boot scripts (cloudInit delivery). https://cloudinit.readthedocs.io/en/latest/reference/modules.html#scripts-per-boot */
const PER_BOOT_DIR = "/var/lib/cloud/scripts/per-boot/";
/** Stand-in for `secure:` stack values, which only the Pulumi CLI can decrypt. */
const SECRET_PLACEHOLDER = "offline-preview-secret-placeholder";

const USAGE = `usage: npm run preview:offline -- [--stack NAME] [--program FILE] [--config KEY=VALUE]... [--policy-config FILE]

  --stack NAME          stack whose Pulumi.<NAME>.yaml supplies the config (default ${DEFAULT_STACK})
  --program FILE        Pulumi program to run, .ts or .js (default ${DEFAULT_PROGRAM})
  --config KEY=VALUE    set or override one config value, like \`pulumi preview -c\` (KEY may omit the project namespace)
  --policy-config FILE  policy config JSON, like \`pulumi preview --policy-pack-config\`
  --help                this text`;

/** A mistake the user fixes by changing the command line or a config file (exit 2). */
export class UsageError extends Error {}
/** The program itself failed, as `pulumi preview` would report it (exit 1). */
export class ProgramError extends Error {}

// ------------------------------------------------------------------------------------------------
// Arguments
// ------------------------------------------------------------------------------------------------

export interface Options {
  stack: string;
  program: string;
  config: Record<string, string>;
  policyConfig?: string;
  help: boolean;
}

export function parseArgs(argv: string[]): Options {
  const opts: Options = { stack: DEFAULT_STACK, program: DEFAULT_PROGRAM, config: {}, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case "--stack":
      case "-s":
        opts.stack = value();
        break;
      case "--program":
        opts.program = value();
        break;
      case "--config":
      case "-c": {
        const kv = value();
        const eq = kv.indexOf("=");
        if (eq <= 0)
          throw new UsageError(
            `--config takes KEY=VALUE (got "${kv}"), e.g. --config sshPublicKey="ssh-ed25519 AAAA… me@host"`,
          );
        opts.config[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case "--policy-config":
        opts.policyConfig = value();
        break;
      case "--help":
      case "-h":
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown argument "${arg}"\n${USAGE}`);
    }
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(opts.stack)) {
    throw new UsageError(`--stack "${opts.stack}" is not a stack name: use letters, digits, "-", "_" or "."`);
  }
  return opts;
}

// ------------------------------------------------------------------------------------------------
// Config: Pulumi.yaml's schema applied to Pulumi.<stack>.yaml, as the CLI does
// ------------------------------------------------------------------------------------------------

interface ConfigType {
  type?: "string" | "integer" | "boolean" | "array";
  items?: ConfigType;
  default?: unknown;
  value?: unknown;
  secret?: boolean;
}

export interface ProjectConfig {
  project: string;
  /** Fully-qualified key → value, as the language host passes them (objects JSON-encoded). */
  values: Record<string, string>;
  secretKeys: string[];
  warnings: string[];
}

function readYaml(file: string, what: string, fix: string): any {
  if (!fs.existsSync(file)) throw new UsageError(`${what} not found at ${file}: ${fix}`);
  try {
    return YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  } catch (e) {
    throw new UsageError(`${file} is not valid YAML (${(e as Error).message.split("\n")[0]}): fix the file`);
  }
}

function qualify(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

function isSchema(v: unknown): v is ConfigType {
  return (
    !!v &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    ("type" in v || "default" in v || "value" in v || "description" in v || "secret" in v)
  );
}

/** The CLI's ValidateConfigValue: strings of digits pass as integers, "true"/"false" as booleans. */
export function matchesType(t: ConfigType, value: unknown): boolean {
  switch (t.type) {
    case undefined:
      return true;
    case "string":
      return typeof value === "string";
    case "integer":
      return (
        (typeof value === "number" && Number.isInteger(value)) ||
        (typeof value === "string" && /^[+-]?\d+$/.test(value.trim()))
      );
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "array":
      return Array.isArray(value) && (!t.items || value.every((v) => matchesType(t.items!, v)));
    default:
      return true;
  }
}

function typeName(t: ConfigType): string {
  return t.type === "array" ? `array<${t.items ? typeName(t.items) : "any"}>` : (t.type ?? "any");
}

/** Stack YAML scalars reach the program as strings; lists and maps as JSON. */
function asConfigString(value: unknown): string {
  return typeof value === "string"
    ? value
    : typeof value === "object" && value !== null
      ? JSON.stringify(value)
      : String(value);
}

/** A `--config` value: YAML-typed like the CLI's `--path` values, so `capacity=3` is an integer. */
function parseOverride(raw: string): unknown {
  if (/^[+-]?\d+$/.test(raw)) return Number(raw);
  if (raw === "true" || raw === "false") return raw === "true";
  return raw;
}

export function loadConfig(projectDir: string, stack: string, overrides: Record<string, string> = {}): ProjectConfig {
  const projectFile = path.join(projectDir, "Pulumi.yaml");
  const proj = readYaml(projectFile, "Pulumi.yaml", "run from the project root (the folder with Pulumi.yaml)");
  const project: string = proj.name;
  if (typeof project !== "string" || project === "")
    throw new UsageError(`${projectFile} has no name: add "name: <project>"`);
  const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const stackDoc = readYaml(
    stackFile,
    `Stack file Pulumi.${stack}.yaml`,
    `create it, or pick another stack with --stack NAME (have: ${listStacks(projectDir).join(", ") || "none"})`,
  );
  const stackConfig: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [k, v] of Object.entries(stackDoc.config ?? {})) {
    stackConfig[qualify(project, k)] = v;
    origin[qualify(project, k)] = `fix it in Pulumi.${stack}.yaml`;
  }
  for (const [k, v] of Object.entries(overrides)) {
    stackConfig[qualify(project, k)] = parseOverride(v);
    origin[qualify(project, k)] = `fix --config ${k}=…`;
  }

  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const warnings: string[] = [];
  const problems: string[] = [];
  const missing: string[] = [];

  for (const [key, raw] of Object.entries(stackConfig)) {
    if (raw && typeof raw === "object" && !Array.isArray(raw) && "secure" in raw) {
      values[key] = SECRET_PLACEHOLDER;
      secretKeys.push(key);
      warnings.push(
        `${key} is encrypted (secure:), which only the Pulumi CLI can decrypt: the program sees "${SECRET_PLACEHOLDER}"`,
      );
    } else if (raw !== null && raw !== undefined) {
      values[key] = asConfigString(raw);
    }
  }

  for (const [rawKey, decl] of Object.entries(proj.config ?? {})) {
    const key = qualify(project, rawKey);
    const schema: ConfigType = isSchema(decl) ? decl : { value: decl };
    const fallback = schema.default !== undefined ? schema.default : schema.value;
    if (!(key in stackConfig)) {
      if (fallback !== undefined) values[key] = asConfigString(fallback);
      else if (key.startsWith(`${project}:`)) missing.push(key);
      continue;
    }
    const given = stackConfig[key];
    if (schema.secret && !(given && typeof given === "object" && "secure" in (given as object))) {
      problems.push(`${key} must be encrypted: pulumi config set --secret ${rawKey} <value>`);
    } else if (!(given && typeof given === "object" && "secure" in (given as object)) && !matchesType(schema, given)) {
      problems.push(`${key} must be of type ${typeName(schema)} (got ${JSON.stringify(given)}): ${origin[key]}`);
    }
    if (schema.secret) secretKeys.push(key);
  }
  if (missing.length > 0) {
    problems.push(
      `Stack '${stack}' is missing configuration ${missing.map((k) => `'${k}'`).join(", ")}: add ${missing.length > 1 ? "them" : "it"} to Pulumi.${stack}.yaml or pass --config KEY=VALUE`,
    );
  }
  if (problems.length > 0) throw new UsageError(problems.join("\n"));
  return { project, values, secretKeys: [...new Set(secretKeys)], warnings };
}

function listStacks(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((s): s is string => !!s);
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------------------------------------
// Running the program under mocks, with the resource graph the mocks' newResource doesn't see
// ------------------------------------------------------------------------------------------------

interface GraphEntry {
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  urn?: string;
}

/** Wraps the mock monitor so each registration's parent and dependencies are kept, in the same
 *  order as the recorder's entries (both are taken synchronously when the request arrives). */
function captureGraph(): GraphEntry[] {
  const graph: GraphEntry[] = [];
  const monitor: any = pulumi.runtime.getMonitor();
  const wrap = (method: "registerResource" | "readResource", custom: (req: any) => boolean) => {
    const original = monitor[method].bind(monitor);
    monitor[method] = (req: any, callback: (err: any, resp: any) => void) => {
      const propertyDependencies: Record<string, string[]> = {};
      req.getPropertydependenciesMap?.()?.forEach((v: any, k: string) => {
        propertyDependencies[k] = v.getUrnsList();
      });
      const entry: GraphEntry = {
        type: req.getType(),
        name: req.getName(),
        custom: custom(req),
        parent: req.getParent() || undefined,
        dependencies: req.getDependenciesList?.() ?? [],
        propertyDependencies,
      };
      graph.push(entry);
      return original(req, (err: any, resp: any) => {
        if (resp) entry.urn = resp.getUrn();
        callback(err, resp);
      });
    };
  };
  wrap("registerResource", (req) => req.getCustom());
  wrap("readResource", () => true);
  return graph;
}

/** Drains registrations still in flight (e.g. resources created inside apply). Internal to the SDK, untyped. */
function waitForRPCs(): Promise<void> {
  return (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** Mock inputs with secrets unwrapped (as the policy engine sees them) and resource objects dropped. */
function plainInputs(value: unknown): any {
  if (Array.isArray(value)) return value.map(plainInputs);
  if (value && typeof value === "object") {
    if ((value as any)[specialSigKey] === specialSecretSig) return plainInputs((value as any).value);
    if (pulumi.Resource.isInstance(value)) return "[resource reference]";
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plainInputs(v);
    return out;
  }
  return value;
}

/** A recorded resource: under mocks every one has outputs (the mock state; {} for components). */
export type RecordedSnapshot = ResourceSnapshot & { outputs: Record<string, any> };

export interface ProgramRun {
  project: string;
  stack: string;
  resources: RecordedSnapshot[];
  outputs: Record<string, unknown>;
}

function describeError(e: unknown): string {
  if (pulumi.InputPropertiesError.isInstance(e as any)) {
    const err = e as pulumi.InputPropertiesError;
    const listed = err.message.includes(err.errors?.[0]?.reason ?? "\u0000");
    return listed
      ? err.message
      : [err.message, ...(err.errors ?? []).map((d) => `  - ${d.propertyPath}: ${d.reason}`)].join("\n");
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProgramError(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `programFile` as the root of a stack under mocks and returns every registered resource. */
export async function runProgram(programFile: string, cfg: ProjectConfig, stack: string): Promise<ProgramRun> {
  const recorder = new ResourceRecorder();
  await installMocks(recorder, { project: cfg.project, stack, preview: false });
  const graph = captureGraph();
  const previousConfig = pulumi.runtime.allConfig();
  pulumi.runtime.setAllConfig(cfg.values, cfg.secretKeys);

  const asyncFailures: unknown[] = [];
  const onRejection = (reason: unknown) => asyncFailures.push(reason);
  process.on("unhandledRejection", onRejection);
  // A program registers its resources when it is first loaded: a cached copy (another test, an
  // earlier run) would register nothing, so drop it, and after the run drop every project module
  // this run loaded (a program split over files) so the next run loads them afresh too.
  const cachedBefore = new Set(Object.keys(require.cache));
  const forget = () => {
    delete require.cache[require.resolve(programFile)];
    for (const key of Object.keys(require.cache)) {
      if (!cachedBefore.has(key) && !key.split(path.sep).includes("node_modules")) delete require.cache[key];
    }
  };
  delete require.cache[require.resolve(programFile)];
  let outputs: Record<string, unknown> = {};
  try {
    outputs =
      ((await pulumi.runtime.runInPulumiStack(async () => {
        const mod = require(programFile);
        // Like the nodejs language host: a default-exported function is the program.
        const main = typeof mod === "function" ? mod : typeof mod?.default === "function" ? mod.default : undefined;
        return main ? await main() : mod;
      })) as Record<string, unknown>) ?? {};
    await withTimeout(
      waitForRPCs(),
      PROGRAM_TIMEOUT_MS,
      `the program was still registering resources after ${PROGRAM_TIMEOUT_MS / 1000} s: an Output never resolves`,
    );
    // Let rejected Outputs surface before deciding the run was clean.
    await new Promise((resolve) => setImmediate(resolve));
  } catch (e) {
    throw new ProgramError(describeError(e));
  } finally {
    process.off("unhandledRejection", onRejection);
    forget();
    pulumi.runtime.setAllConfig(previousConfig);
  }
  if (asyncFailures.length > 0) throw new ProgramError(asyncFailures.map(describeError).join("\n"));

  if (graph.length !== recorder.resources.length) {
    throw new Error(`internal: ${graph.length} registrations but ${recorder.resources.length} recorded resources`);
  }
  const resources: RecordedSnapshot[] = graph.map((g, i) => {
    const rec = recorder.resources[i];
    if (rec.type !== g.type || rec.name !== g.name)
      throw new Error(
        `internal: registration ${i} is ${g.type} ${g.name} but the recorder has ${rec.type} ${rec.name}`,
      );
    return {
      type: g.type,
      name: g.name,
      urn: g.urn ?? `urn:pulumi:${stack}::${cfg.project}::${g.type}::${g.name}`,
      inputs: plainInputs(rec.inputs),
      outputs: rec.custom ? { ...plainInputs(rec.state), id: rec.id } : {},
      parent: g.parent,
      dependencies: g.dependencies,
      propertyDependencies: g.propertyDependencies,
    };
  });
  return { project: cfg.project, stack, resources, outputs: plainInputs(outputs) ?? {} };
}

// ------------------------------------------------------------------------------------------------
// Rendering what `pulumi up` would create
// ------------------------------------------------------------------------------------------------

export function renderTree(resources: ResourceSnapshot[]): string[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const children = new Map<string | undefined, ResourceSnapshot[]>();
  for (const r of resources) {
    const key = r.parent && byUrn.has(r.parent) ? r.parent : undefined;
    children.set(key, [...(children.get(key) ?? []), r]);
  }
  const rows: [string, string][] = [];
  const walk = (r: ResourceSnapshot, prefix: string, branch: string) => {
    rows.push([`${prefix}${branch}${r.type}`, r.name]);
    const kids = children.get(r.urn) ?? [];
    const nextPrefix = branch === "" ? prefix : prefix + (branch === "└─ " ? "   " : "│  ");
    kids.forEach((k, i) => walk(k, nextPrefix, i === kids.length - 1 ? "└─ " : "├─ "));
  };
  for (const root of children.get(undefined) ?? []) walk(root, "", "");
  const width = Math.max("Type".length, ...rows.map(([t]) => t.length)) + 2;
  const nameWidth = Math.max("Name".length, ...rows.map(([, n]) => n.length)) + 2;
  return [
    `     ${"Type".padEnd(width)}${"Name".padEnd(nameWidth)}Plan`,
    ...rows.map(([t, n]) => ` +   ${t.padEnd(width)}${n.padEnd(nameWidth)}create`),
  ];
}

const fmt = (n: number) => n.toLocaleString("en-US");

const cseCommand = (e: any): string =>
  /^customscript/i.test(e?.type ?? "")
    ? String(e?.settings?.commandToExecute ?? e?.protectedSettings?.commandToExecute ?? "")
    : "";
/** The CSE that only writes the kept file (systemd and cloudInit modes): a proof, not what starts the worker. */
const isKeptProofOnly = (e: any): boolean =>
  cseCommand(e).includes(KEPT_FILE_PATH) && !cseCommand(e).includes(WORKER_UNIT);

/** What starts the worker, read back from the rendered scale set. */
export function detectDelivery(inputs: Record<string, any>, cloudInitText: string | undefined): string {
  const extensions: any[] = inputs.virtualMachineProfile?.extensionProfile?.extensions ?? [];
  if (extensions.some((e) => /^customscript/i.test(e?.type ?? "") && !isKeptProofOnly(e)))
    return "customScript (Custom Script Extension)";
  if (cloudInitText?.includes(PER_BOOT_DIR)) return "cloudInit (per-boot script)";
  if (cloudInitText && /\/etc\/systemd\/system\/[\w@.-]+\.service/.test(cloudInitText)) return "systemd (unit)";
  return "unknown (no waiter trigger found)";
}

/** How the waiter learns that the scale set keeps its VM: the extension that writes the kept file, and --kept-file. */
export function describeKeptProof(inputs: Record<string, any>, cloudInitText: string | undefined): string {
  const extensions: any[] = inputs.virtualMachineProfile?.extensionProfile?.extensions ?? [];
  const writer = extensions.find((e) => cseCommand(e).includes(KEPT_FILE_PATH));
  // As the launcher passes it (shell-quoted); the waiter bundle's own usage text also names the flag.
  const flag = cloudInitText?.includes(`'--kept-file' '${KEPT_FILE_PATH}'`) ?? false;
  if (!writer && !flag) return "none: Succeeded is enough (no --kept-file)";
  if (!writer) return `MISSING: the waiter waits for --kept-file ${KEPT_FILE_PATH} but no extension writes it`;
  const ext = `extension "${writer.name}" (${writer.publisher}/${writer.type} ${writer.typeHandlerVersion})`;
  const where =
    inputs.doNotRunExtensionsOnOverprovisionedVMs === true
      ? "on kept VMs only"
      : "on every VM, extras too (doNotRunExtensionsOnOverprovisionedVMs is not true)";
  return `${ext} writes ${KEPT_FILE_PATH} ${where}; ${flag ? "the waiter runs with --kept-file" : "but the waiter does not run with --kept-file"}`;
}

function roleName(guid: string): string {
  return guid === READER_ROLE_DEFINITION_GUID ? "Reader" : guid;
}

export function renderSummary(run: ProgramRun, configuredDelivery?: string): string[] {
  const lines: string[] = [];
  const stackView = toPolicyResources(run.resources);
  const links = linkRoleAssignments(stackView);
  const assignments = run.resources.filter((r) => isRoleAssignmentType(r.type));
  lines.push("Role assignments:");
  if (assignments.length === 0) lines.push("  (none)");
  for (const a of assignments) {
    const roleId: string = a.inputs.roleDefinitionId ?? "(unset)";
    const target = links.filter((l) => l.assignment.urn === a.urn).map((l) => l.scaleSet.name);
    lines.push(`  ${a.name}`);
    lines.push(`    role:          ${roleName(roleDefinitionGuid(roleId))}  ${roleId}`);
    lines.push(`    scope:         ${a.inputs.scope ?? "(unset)"}`);
    lines.push(`    principalType: ${a.inputs.principalType ?? "(unset)"}`);
    lines.push(
      `    principal:     ${target.length > 0 ? `identity of ${target.join(", ")}` : (a.inputs.principalId ?? "(unset)")}`,
    );
  }
  const scaleSets = run.resources.filter((r) => isScaleSetType(r.type));
  lines.push("Scale sets:");
  if (scaleSets.length === 0) lines.push("  (none)");
  for (const s of scaleSets) {
    const i = s.inputs;
    const b64: string | undefined = i.virtualMachineProfile?.osProfile?.customData;
    const cd = b64 ? decodeCustomData(b64) : undefined;
    lines.push(`  ${s.name}`);
    lines.push(
      `    sku:           ${i.sku?.capacity ?? "?"} x ${i.sku?.name ?? "?"}, orchestrationMode ${i.orchestrationMode ?? "(unset)"}, identity ${i.identity?.type ?? "(none)"}`,
    );
    lines.push(
      `    overprovision: ${i.overprovision ?? "(unset: platform default true)"}, doNotRunExtensionsOnOverprovisionedVMs ${i.doNotRunExtensionsOnOverprovisionedVMs ?? "(unset: false)"}`,
    );
    const detected = detectDelivery(i, cd?.text);
    lines.push(
      `    delivery:      ${detected}${configuredDelivery ? ` [config delivery: ${configuredDelivery}]` : ""}`,
    );
    lines.push(`    kept proof:    ${describeKeptProof(i, cd?.text)}`);
    if (cd) {
      const pct = ((cd.bytes / MAX_CUSTOM_DATA_BYTES) * 100).toFixed(1);
      lines.push(
        `    custom data:   ${fmt(cd.bytes)} bytes decoded${cd.gzip ? " (gzip)" : ""} of the ${fmt(MAX_CUSTOM_DATA_BYTES)}-byte limit (${pct}%), ${fmt(cd.base64Length)} chars base64, ${fmt(Buffer.byteLength(cd.text))} bytes of cloud-init text`,
      );
      lines.push(`    waiter:        ${cd.text.includes(WAITER_PATH) ? `shipped (${WAITER_PATH})` : "not shipped"}`);
    } else {
      lines.push("    custom data:   (none)");
    }
  }
  return lines;
}

// ------------------------------------------------------------------------------------------------
// Main
// ------------------------------------------------------------------------------------------------

function loadPolicyConfig(file: string | undefined): PolicyConfigInput | undefined {
  if (!file) return undefined;
  if (!fs.existsSync(file))
    throw new UsageError(
      `--policy-config ${file} not found: pass a JSON file like {"custom-data-soft-budget": {"maxBytes": 40000}}`,
    );
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`--policy-config ${file} is not valid JSON (${(e as Error).message}): fix the file`);
  }
}

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
    if (e instanceof UsageError) {
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
  if (Object.keys(run.outputs).length > 0) {
    out("Outputs:");
    for (const [k, v] of Object.entries(run.outputs)) out(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  }
  out("");

  const violations = await evaluatePolicies(policies, run.resources, { config: policyConfig });
  out(`Policies (${policies.length} from policy/policies.ts):`);
  if (violations.length === 0) out("  no violations");
  for (const v of violations) out(`  ${formatViolation(v)}`);
  const failed = hasMandatory(violations);
  out("");
  out(
    failed
      ? "error: mandatory policy violations: pulumi up would be blocked"
      : "Passed: pulumi up would not be blocked by the policy pack",
  );
  return { exitCode: failed ? EXIT_FAILED : EXIT_OK, violations, run };
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
