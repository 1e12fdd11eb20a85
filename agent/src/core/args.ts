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
`;

/** Why --overprovisioned is gone, for whoever still passes it (an old launcher, a hand-written unit). */
export const OVERPROVISIONED_REMOVED =
  "--overprovisioned was removed and replaced by --kept-file PATH: it proved survival by reading the scale set, " +
  "whose Compute bucket (36, +12/min per scale set) makes 1,000 instances wait about 80 minutes; an extension " +
  "that runs only on kept VMs now writes PATH, which costs no ARM read";

/** A command line read: run with these options, print the usage, or say what is wrong. */
export type Parsed<O> = { kind: "run"; options: O } | { kind: "help" } | { kind: "error"; message: string };
export type ParsedArgs = Parsed<WaiterOptions>;

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

/** The problem with a path given on the command line, if any. */
export function notAbsolute(flag: string, value: string): string | undefined {
  return value.charAt(0) !== "/" || value.indexOf("\0") >= 0
    ? `${flag} must be an absolute path (got "${value}")`
    : undefined;
}

const VALUE_FLAGS = ["--imds-url", "--arm-url", "--timeout", "--kept-file"];

export type FlagScan =
  { kind: "flags"; values: Array<[string, string]> } | { kind: "help" } | { kind: "error"; message: string };

/**
 * Pure: argv to [flag, value] pairs (`--flag value` or `--flag=value`), for flags that all take
 * a value; `-h`/`--help` wins. `who` names the program in the message for a stray argument;
 * `removed` maps a flag that is gone to the message that says why.
 */
export function scanFlags(
  argv: string[],
  valueFlags: string[],
  who: string,
  removed: Record<string, string> = {},
): FlagScan {
  const values: Array<[string, string]> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    const eq = arg.indexOf("=");
    const flag = arg.indexOf("--") === 0 && eq > 0 ? arg.slice(0, eq) : arg;
    if (removed[flag]) return { kind: "error", message: removed[flag] };
    if (valueFlags.indexOf(flag) < 0) {
      return {
        kind: "error",
        message:
          arg.indexOf("-") === 0 ? `unknown flag ${flag}` : `unexpected argument "${arg}" (${who} takes only flags)`,
      };
    }
    let value = flag !== arg ? arg.slice(eq + 1) : undefined;
    if (value === undefined) {
      if (i + 1 >= argv.length) return { kind: "error", message: `${flag} needs a value` };
      value = argv[++i];
    }
    values.push([flag, value]);
  }
  return { kind: "flags", values };
}

/** Pure: argv (without node and the script) to options, or the first problem with a fix. */
export function parseArgs(argv: string[]): ParsedArgs {
  const scan = scanFlags(argv, VALUE_FLAGS, "the waiter", { "--overprovisioned": OVERPROVISIONED_REMOVED });
  if (scan.kind !== "flags") return scan;
  const options: WaiterOptions = { imdsUrl: DEFAULT_IMDS_URL, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS };
  for (const [flag, value] of scan.values) {
    if (flag === "--timeout") {
      const seconds = /^\s*\d+(\.\d+)?\s*$/.test(value) ? parseFloat(value) : NaN;
      if (!(seconds > 0)) {
        return { kind: "error", message: `--timeout must be a number of seconds greater than 0 (got "${value}")` };
      }
      options.timeoutSeconds = seconds;
    } else if (flag === "--kept-file") {
      const problem = notAbsolute(flag, value);
      if (problem) return { kind: "error", message: problem };
      options.keptFile = value;
    } else {
      const url = baseUrl(flag, value);
      if (typeof url !== "string") return { kind: "error", message: url.error };
      if (flag === "--imds-url") options.imdsUrl = url;
      else options.armUrl = url;
    }
  }
  return { kind: "run", options };
}
