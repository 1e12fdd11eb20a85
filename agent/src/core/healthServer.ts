/**
 * The health endpoint's pure half: its flags, its one route and its exact answers. The
 * Application Health extension (Rich Health States) GETs http://localhost:PORT/PATH from inside
 * the VM and reads 2xx + `{"ApplicationHealthState":"Healthy"|"Unhealthy"}`; anything else
 * (another body, a non-2xx, a redirect, a refused connection) is Unknown to it.
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-health-extension
 */
import { absolutePath, scanFlags } from "./args";
import { HEALTH_STATE_DIR, HealthState } from "./healthState";

/** The subcommand: `node waiter.js health-server [flags]`; without it the bundle waits, as always. */
export const HEALTH_SERVER_COMMAND = "health-server";

/** The one path served; every other path is a 404 (never a redirect: the extension counts one as Unknown). */
export const HEALTH_PATH = "/health";

/**
 * Named assumption: Azure prescribes no port. ≥ 1024 so it needs no privilege
 * (ip_unprivileged_port_start), below 32768 where Linux picks outgoing source ports
 * (ip_local_port_range "32768 60999"), https://www.kernel.org/doc/html/latest/networking/ip-sysctl.html,
 * and no common development port.
 */
export const DEFAULT_HEALTH_PORT = 28734;

/**
 * Loopback only. The extension always probes the host `localhost` (applicationhealth-extension-linux
 * main/health.go), which resolves to 127.0.0.1 and ::1; Go's dialer tries each address until
 * one answers, so 127.0.0.1 is reached on every image.
 */
export const HEALTH_BIND_ADDRESS = "127.0.0.1";

/** The cgroup v2 mount, where a started worker's cgroup tells whether it still runs. */
export const DEFAULT_CGROUP_ROOT = "/sys/fs/cgroup";

/**
 * The listening socket systemd passed (socket activation: the .socket unit binds the port early in
 * boot and queues connections until the server runs), or undefined: then the server binds itself.
 * sd_listen_fds(3): the sockets start at fd 3, LISTEN_FDS counts them, LISTEN_PID must be ours.
 */
export function inheritedSocketFd(env: Record<string, string | undefined>, pid: number): number | undefined {
  return env.LISTEN_FDS === "1" && env.LISTEN_PID === String(pid) ? 3 : undefined;
}

/** The health server's exit codes: a bad flag, or the port cannot be bound (systemd retries). */
export const HEALTH_EXIT_CODES = { usage: 2, cannotListen: 75 } as const;

export const HEALTH_USAGE = `usage: waiter.js ${HEALTH_SERVER_COMMAND} [--port N] [--state-dir DIR] [--cgroup-root DIR]
Defaults: --port ${DEFAULT_HEALTH_PORT} --state-dir ${HEALTH_STATE_DIR} --cgroup-root ${DEFAULT_CGROUP_ROOT}
`;

export interface HealthServerOptions {
  port: number;
  stateDir: string;
  cgroupRoot: string;
}

export type ParsedHealthArgs =
  { kind: "run"; options: HealthServerOptions } | { kind: "help" } | { kind: "error"; message: string };

/** Pure: the flags after `health-server` to options, or the first problem with its fix. */
export function parseHealthArgs(argv: string[]): ParsedHealthArgs {
  const options = { port: DEFAULT_HEALTH_PORT, stateDir: HEALTH_STATE_DIR, cgroupRoot: DEFAULT_CGROUP_ROOT };
  const scan = scanFlags(argv, ["--port", "--state-dir", "--cgroup-root"], (flag, value) => {
    if (flag === "--port") {
      options.port = /^\d{1,5}$/.test(value) ? parseInt(value, 10) : 0;
      return options.port >= 1 && options.port <= 65535
        ? undefined
        : `--port must be an integer from 1 to 65535 (got "${value}")`;
    }
    const path = value.replace(/(.)\/+$/, "$1");
    if (flag === "--state-dir") options.stateDir = path;
    else options.cgroupRoot = path;
    return absolutePath(flag, value);
  });
  if (scan === "help") return { kind: "help" };
  if (scan) return { kind: "error", message: scan.error };
  return { kind: "run", options };
}

export interface HealthReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Exactly the body the extension parses; no blanks, so curl shows it as the docs write it. */
export function healthBody(state: HealthState): string {
  return `{"ApplicationHealthState":"${state}"}`;
}

function reply(status: number, body: string, type: string, extra: Record<string, string> = {}): HealthReply {
  extra["Content-Type"] = type;
  extra["Cache-Control"] = "no-store";
  return { status, headers: extra, body };
}

/** A probe's answer: always 200 (a non-2xx would be Unknown whatever the body says). */
export function probeReply(state: HealthState): HealthReply {
  return reply(200, healthBody(state), "application/json");
}

/**
 * "probe" for GET or HEAD of HEALTH_PATH (any query is ignored), else the refusal. Only a
 * probe reads state, so nothing else costs a file read.
 */
export function routeRequest(method: string | undefined, url: string | undefined): "probe" | HealthReply {
  const path = (url || "").split("?")[0];
  if (path !== HEALTH_PATH) return reply(404, `try ${HEALTH_PATH}\n`, "text/plain");
  if (method === "GET" || method === "HEAD") return "probe";
  return reply(405, "only GET and HEAD\n", "text/plain", { Allow: "GET, HEAD" });
}
