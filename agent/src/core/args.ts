import { DEFAULT_IMDS_URL, DEFAULT_TIMEOUT_SECONDS } from "./constants";
import type { WaiterOptions } from "./types";

export const USAGE = `usage: waiter.js [--imds-url URL] [--arm-url URL] [--timeout SECONDS] [--overprovisioned]

Waits until Azure reports this VM's provisioningState Succeeded, then exits 0.
  --imds-url URL      IMDS base URL (default ${DEFAULT_IMDS_URL})
  --arm-url URL       ARM base URL (default: the VM's cloud, from IMDS compute.azEnvironment)
  --timeout SECONDS   give up after this long (default ${DEFAULT_TIMEOUT_SECONDS})
  --overprovisioned   the scale set overprovisions: also wait for the scale set to settle,
                      then check this VM was not culled
Exit codes: 0 succeeded, 2 usage, 3 gone (Deleting or 404), 4 failed, 5 timeout.
`;

export type ParsedArgs =
  { kind: "run"; options: WaiterOptions } | { kind: "help" } | { kind: "error"; message: string };

/** Takes a URL given on the command line: http or https, no query or fragment; drops trailing slashes. */
function baseUrl(flag: string, value: string): string | { error: string } {
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

/** Pure: argv (without node and the script) to options, or the first problem with a fix. */
export function parseArgs(argv: string[]): ParsedArgs {
  let imdsUrl = DEFAULT_IMDS_URL;
  let armUrl: string | undefined;
  let timeoutSeconds = DEFAULT_TIMEOUT_SECONDS;
  let overprovisioned = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return { kind: "help" };
    const eq = arg.indexOf("=");
    const flag = arg.indexOf("--") === 0 && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = flag !== arg ? arg.slice(eq + 1) : undefined;
    if (flag === "--overprovisioned") {
      if (inline !== undefined) return { kind: "error", message: "--overprovisioned takes no value" };
      overprovisioned = true;
      continue;
    }
    if (flag !== "--imds-url" && flag !== "--arm-url" && flag !== "--timeout") {
      return {
        kind: "error",
        message:
          arg.indexOf("-") === 0
            ? `unknown flag ${flag}`
            : `unexpected argument "${arg}" (the waiter takes only flags)`,
      };
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) return { kind: "error", message: `${flag} needs a value` };
      value = argv[++i];
    }
    if (flag === "--timeout") {
      const seconds = /^\s*\d+(\.\d+)?\s*$/.test(value) ? parseFloat(value) : NaN;
      if (!(seconds > 0)) {
        return { kind: "error", message: `--timeout must be a number of seconds greater than 0 (got "${value}")` };
      }
      timeoutSeconds = seconds;
      continue;
    }
    const url = baseUrl(flag, value);
    if (typeof url !== "string") return { kind: "error", message: url.error };
    if (flag === "--imds-url") imdsUrl = url;
    else armUrl = url;
  }
  return { kind: "run", options: { imdsUrl, armUrl, timeoutSeconds, overprovisioned } };
}
