/**
 * The seam between the pure waiter core and whatever drives it: the real process
 * (agent/src/io), the unit tests (fake clock) and the fleet simulation (virtual time).
 * The core never touches a socket, a timer or Date directly.
 */

export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  headers: Record<string, string>;
  /** The request body (a POST's), sent as UTF-8. */
  body?: string;
  /** Per-request deadline; the transport aborts the request after this long. */
  timeoutMs: number;
}

export type HttpResult =
  /** `headers` names are lower case. */
  | { kind: "response"; status: number; headers: Record<string, string>; body: string }
  /** No HTTP response at all: refused, reset, DNS, per-request timeout. */
  | { kind: "error"; code: string; message: string };

export interface Env {
  /** Milliseconds, monotonic enough for deadlines. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1); injected so that jitter is reproducible. */
  random(): number;
  request(req: HttpRequest): Promise<HttpResult>;
  /** One line, for journald. Must never receive a token. */
  log(line: string): void;
  /**
   * The text of a local file, or undefined when it is absent or unreadable (never throws).
   * The kept-file proof (--kept-file) reads through this, so tests can write files at a
   * given virtual time.
   */
  readFile(path: string): Promise<string | undefined>;
  /**
   * Wall-clock epoch milliseconds. Optional: used only to read a `Retry-After` HTTP date
   * (or a token's `expires_on`) when the response carries no `Date` header to compare it
   * with. When absent, now() is taken as the wall clock.
   */
  wallNow?(): number;
}

export interface WaiterOptions {
  imdsUrl: string;
  /** Override for ARM; when absent it comes from IMDS compute.azEnvironment. */
  armUrl?: string;
  timeoutSeconds: number;
  /**
   * --kept-file: the file an extension writes, with this VM's vmId, only on VMs the scale set
   * keeps. When set, Succeeded alone is not enough: the file must hold this VM's vmId too.
   */
  keptFile?: string;
}

/**
 * How the drain watcher reaches the worker (agent/src/io/systemd.ts drives its systemd unit).
 * Every method resolves, never rejects: a failure is reported in the log by the shell.
 */
export interface WorkerControl {
  /** Begins stopping the worker for good (no restart): SIGTERM to its processes now. */
  stop(): Promise<void>;
  /** Whether any of the worker's processes still runs. */
  running(): Promise<boolean>;
  /** SIGKILL to whatever of the worker is left. */
  kill(): Promise<void>;
  /** Starts the worker again (the event it was drained for was cancelled). */
  start(): Promise<void>;
}

/** The drain watcher's Env: the waiter's, plus the worker it drains. */
export interface DrainEnv extends Env {
  worker: WorkerControl;
  /** Writes the health state's `drain` record (healthState.ts), or removes it for undefined. Resolves, never rejects. */
  markDraining(record: string | undefined): Promise<void>;
  /** Seconds since boot (/proc/uptime), the clock of the health state's `since=`. */
  uptimeSeconds(): number;
}

export interface DrainOptions {
  imdsUrl: string;
  /** How long the worker may take to finish or hand back its task after SIGTERM, at most the notice left. */
  drainSeconds: number;
  /** The systemd unit of the worker. */
  unit: string;
  /** The systemctl binary the shell runs (a stand-in in tests). */
  systemctl: string;
  /** The health state directory, where the `drain` record goes (healthState.ts). */
  stateDir: string;
}

export type Outcome =
  | { kind: "succeeded" }
  | { kind: "gone"; reason: string }
  | { kind: "failed"; reason: string }
  | { kind: "timeout"; reason: string }
  /** IMDS or ARM answered a status that waiting cannot heal (retryTable.ts): an operator must fix something. */
  | { kind: "refused"; reason: string }
  /** The agent cannot work out where ARM is (unknown azEnvironment and no --arm-url): an operator must say. */
  | { kind: "usage"; reason: string };
