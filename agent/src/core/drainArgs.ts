/** The drain watcher's command line: `waiter.js drain-watcher [flags]`. */
import { baseUrl, notAbsolute, scanFlags } from "./args";
import type { Parsed } from "./args";
import {
  DEFAULT_DRAIN_SECONDS,
  DEFAULT_IMDS_URL,
  DEFAULT_SYSTEMCTL,
  DEFAULT_WORKER_UNIT,
  MAX_DRAIN_SECONDS,
} from "./constants";
import type { DrainOptions } from "./types";

export const DRAIN_COMMAND = "drain-watcher";

export const DRAIN_USAGE = `usage: waiter.js ${DRAIN_COMMAND} [--imds-url URL] [--drain-seconds N] [--unit UNIT] [--systemctl PATH]
For this VM's Scheduled Events: SIGTERM to UNIT (default ${DEFAULT_WORKER_UNIT}), SIGKILL after N s (1-${MAX_DRAIN_SECONDS},
default ${DEFAULT_DRAIN_SECONDS}; never past NotBefore), then the acknowledgement. Exit codes: 2 usage, 6 refused by IMDS.
`;

export function parseDrainArgs(argv: string[]): Parsed<DrainOptions> {
  const scan = scanFlags(argv, ["--imds-url", "--drain-seconds", "--unit", "--systemctl"], DRAIN_COMMAND);
  if (scan.kind !== "flags") return scan;
  const options: DrainOptions = {
    imdsUrl: DEFAULT_IMDS_URL,
    drainSeconds: DEFAULT_DRAIN_SECONDS,
    unit: DEFAULT_WORKER_UNIT,
    systemctl: DEFAULT_SYSTEMCTL,
  };
  for (const [flag, value] of scan.values) {
    let problem: string | undefined;
    if (flag === "--drain-seconds") {
      const n = /^\s*\d+\s*$/.test(value) ? parseInt(value, 10) : NaN;
      if (!(n >= 1 && n <= MAX_DRAIN_SECONDS))
        problem = `--drain-seconds must be a whole number from 1 to ${MAX_DRAIN_SECONDS} (got "${value}")`;
      options.drainSeconds = n;
    } else if (flag === "--unit") {
      if (!/^[\w@.:-]+\.service$/.test(value)) problem = `--unit must name a .service unit (got "${value}")`;
      options.unit = value;
    } else if (flag === "--systemctl") {
      problem = notAbsolute(flag, value);
      options.systemctl = value;
    } else {
      const url = baseUrl(flag, value);
      if (typeof url !== "string") problem = url.error;
      else options.imdsUrl = url;
    }
    if (problem) return { kind: "error", message: problem };
  }
  return { kind: "run", options };
}
