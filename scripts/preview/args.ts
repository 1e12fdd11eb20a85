/** The offline preview's command line: `--stack`, `--program`, `--config`, `--policy-config`, `--help`. */
import * as fs from "fs";
import type { PolicyConfigInput } from "../../policy/evaluate";

const DEFAULT_STACK = "dev";
const DEFAULT_PROGRAM = "index.ts";

export const USAGE = `usage: npm run preview:offline -- [--stack NAME] [--program FILE] [--config KEY=VALUE]... [--policy-config FILE]

  --stack NAME          stack whose Pulumi.<NAME>.yaml supplies the config (default ${DEFAULT_STACK})
  --program FILE        Pulumi program to run, .ts or .js (default ${DEFAULT_PROGRAM})
  --config KEY=VALUE    set or override one config value, like \`pulumi preview -c\` (KEY may omit the project namespace)
  --policy-config FILE  policy config JSON, like \`pulumi preview --policy-pack-config\`
  --help                this text`;

/** A mistake the user fixes by changing the command line (exit 2). */
export class UsageError extends Error {}

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

/** The `--policy-config` file, like `pulumi preview --policy-pack-config`. */
export function loadPolicyConfig(file: string | undefined): PolicyConfigInput | undefined {
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
