import { DEFAULT_IMDS_URL, DEFAULT_TIMEOUT_SECONDS } from "./constants";
import type { WaiterOptions } from "./types";

export const USAGE = `usage: waiter.js [--imds-url URL] [--arm-url URL] [--timeout SECONDS] [--kept-file PATH]

Waits until Azure reports this VM's provisioningState Succeeded, then exits 0.
  --imds-url URL      IMDS base URL (default ${DEFAULT_IMDS_URL})
  --arm-url URL       ARM base URL (default: the VM's cloud, from IMDS compute.azEnvironment)
  --timeout SECONDS   give up after this long (default ${DEFAULT_TIMEOUT_SECONDS})
  --kept-file PATH    the scale set overprovisions: also wait until PATH holds this VM's
                      vmId (IMDS compute/vmId), which an extension writes only on the VMs
                      the scale set keeps; a file holding another vmId is ignored
Exit codes: 0 succeeded, 2 usage, 3 gone (Deleting or 404), 4 failed, 5 timeout,
6 refused (IMDS or ARM refused the request in a way waiting cannot heal).
The health endpoint: waiter.js health-server --help
`;

/** Why --overprovisioned is gone, for whoever still passes it (an old launcher, a hand-written unit). */
export const OVERPROVISIONED_REMOVED =
  "--overprovisioned was removed and replaced by --kept-file PATH: it proved survival by reading the scale set, " +
  "whose Compute bucket (36, +12/min per scale set) makes 1,000 instances wait about 80 minutes; an extension " +
  "that runs only on kept VMs now writes PATH, which costs no ARM read";

export type ParsedArgs =
  { kind: "run"; options: WaiterOptions } | { kind: "help" } | { kind: "error"; message: string };

/** Takes a URL given on the command line: http or https, no query or fragment; drops trailing slashes. */
export function baseUrl(flag: string, value: string): string | { error: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch (e) {
    return { error: `${flag} must be an absolute http:// or https:// URL (got "${value}")` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { error: `${flag} must use http:// or https:// (got "${value}")` };
  }
  if (url.search || url.hash || url.username || url.password) {
    return { error: `${flag} must be a base URL without query, fragment or credentials (got "${value}")` };
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

const VALUE_FLAGS = ["--imds-url", "--arm-url", "--timeout", "--kept-file"];

/**
 * Walks argv for the flags in valueFlags (`--flag value` or `--flag=value`) and -h/--help,
 * calling take() for each value in order; take() returns a problem or undefined. Returns
 * "help", the first problem, or undefined. Shared by the waiter and the health server.
 */
export function scanFlags(
  argv: string[],
  valueFlags: string[],
  take: (flag: string, value: string) => string | undefined,
  removed: Record<string, string> = {},
): "help" | { error: string } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return "help";
    const eq = arg.indexOf("=");
    const flag = arg.indexOf("--") === 0 && eq > 0 ? arg.slice(0, eq) : arg;
    if (removed[flag]) return { error: removed[flag] };
    if (valueFlags.indexOf(flag) < 0) {
      return {
        error: arg.indexOf("-") === 0 ? `unknown flag ${flag}` : `unexpected argument "${arg}" (only flags are taken)`,
      };
    }
    let value = flag !== arg ? arg.slice(eq + 1) : undefined;
    if (value === undefined) {
      if (i + 1 >= argv.length) return { error: `${flag} needs a value` };
      value = argv[++i];
    }
    const problem = take(flag, value);
    if (problem) return { error: problem };
  }
  return undefined;
}

/** An absolute path without NUL, or the problem naming the flag. */
export function absolutePath(flag: string, value: string): string | undefined {
  return value.charAt(0) !== "/" || value.indexOf("\0") >= 0
    ? `${flag} must be an absolute path (got "${value}")`
    : undefined;
}

/** Pure: argv (without node and the script) to options, or the first problem with a fix. */
export function parseArgs(argv: string[]): ParsedArgs {
  const options: WaiterOptions = { imdsUrl: DEFAULT_IMDS_URL, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS };
  const scan = scanFlags(
    argv,
    VALUE_FLAGS,
    (flag, value) => {
      if (flag === "--timeout") {
        const seconds = /^\s*\d+(\.\d+)?\s*$/.test(value) ? parseFloat(value) : NaN;
        if (!(seconds > 0)) return `--timeout must be a number of seconds greater than 0 (got "${value}")`;
        options.timeoutSeconds = seconds;
      } else if (flag === "--kept-file") {
        options.keptFile = value;
        return absolutePath(flag, value);
      } else {
        const url = baseUrl(flag, value);
        if (typeof url !== "string") return url.error;
        if (flag === "--imds-url") options.imdsUrl = url;
        else options.armUrl = url;
      }
      return undefined;
    },
    { "--overprovisioned": OVERPROVISIONED_REMOVED },
  );
  if (scan === "help") return { kind: "help" };
  if (scan) return { kind: "error", message: scan.error };
  return { kind: "run", options };
}
