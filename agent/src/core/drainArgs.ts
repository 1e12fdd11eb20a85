/** The drain watcher's command line: `waiter.js drain-watcher [flags]`. */
import { absolutePath, baseUrl, scanFlags } from "./args";
import {
  DEFAULT_DRAIN_SECONDS,
  DEFAULT_IMDS_URL,
  DEFAULT_SYSTEMCTL,
  DEFAULT_WORKER_UNIT,
  MAX_DRAIN_SECONDS,
} from "./constants";
import { HEALTH_STATE_DIR } from "./healthState";
import type { DrainOptions } from "./types";

/** A command line read: run with these options, print the usage, or say what is wrong. */
export type Parsed<O> = { kind: "run"; options: O } | { kind: "help" } | { kind: "error"; message: string };

export const DRAIN_COMMAND = "drain-watcher";

export const DRAIN_USAGE = `usage: waiter.js ${DRAIN_COMMAND} [--imds-url URL] [--drain-seconds N (1-${MAX_DRAIN_SECONDS}, default ${DEFAULT_DRAIN_SECONDS})] [--unit UNIT (default ${DEFAULT_WORKER_UNIT})] [--systemctl PATH] [--state-dir DIR (default ${HEALTH_STATE_DIR})]
`;

export function parseDrainArgs(argv: string[]): Parsed<DrainOptions> {
  const options: DrainOptions = {
    imdsUrl: DEFAULT_IMDS_URL,
    drainSeconds: DEFAULT_DRAIN_SECONDS,
    unit: DEFAULT_WORKER_UNIT,
    systemctl: DEFAULT_SYSTEMCTL,
    stateDir: HEALTH_STATE_DIR,
  };
  const scan = scanFlags(
    argv,
    ["--imds-url", "--drain-seconds", "--unit", "--systemctl", "--state-dir"],
    (flag, value) => {
      if (flag === "--drain-seconds") {
        options.drainSeconds = /^\s*\d+\s*$/.test(value) ? parseInt(value, 10) : NaN;
        const n = options.drainSeconds;
        return n >= 1 && n <= MAX_DRAIN_SECONDS
          ? undefined
          : `--drain-seconds must be a whole number from 1 to ${MAX_DRAIN_SECONDS} (got "${value}")`;
      }
      if (flag === "--unit") {
        options.unit = value;
        return /^[\w@.:-]+\.service$/.test(value) ? undefined : `--unit must name a .service unit (got "${value}")`;
      }
      if (flag === "--systemctl") {
        options.systemctl = value;
        return absolutePath(flag, value);
      }
      if (flag === "--state-dir") {
        options.stateDir = value.replace(/(.)\/+$/, "$1");
        return absolutePath(flag, value);
      }
      const url = baseUrl(flag, value);
      if (typeof url !== "string") return url.error;
      options.imdsUrl = url;
      return undefined;
    },
  );
  if (scan === "help") return { kind: "help" };
  if (scan) return { kind: "error", message: scan.error };
  return { kind: "run", options };
}
