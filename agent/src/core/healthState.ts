/**
 * The health state contract: the one place that says what the health endpoint answers, from
 * which files, written by whom. Writers (the launcher, the worker unit's ExecStopPost=) render
 * their shell from the names exported here; the health server only reads.
 *
 * The directory is on tmpfs (/run), so a reboot empties it and the answer starts again at
 * Initializing. Each writer owns one file and replaces it whole (a temporary file in the same
 * directory, then `mv`), so a reader never sees half a record. The server reads the files on
 * each request: no timer, no watcher, nothing runs between probes.
 *
 * A file holds one line: a phase word, then `key=value` fields whose values have no blanks:
 *
 *     <phase> since=<seconds since boot, /proc/uptime> [key=value ...]
 *
 * File `worker`, written by the launcher (inside hpc-worker.service) and by that unit's
 * ExecStopPost= (which sees systemd's $SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS):
 *
 * | phase        | writer, when                                                | answer                          |
 * |--------------|-------------------------------------------------------------|---------------------------------|
 * | (no file)    | nothing has run since boot                                  | Initializing                    |
 * | `node`       | launcher: waits for the installer to provide Node.js        | Initializing                    |
 * | `waiting`    | launcher: the waiter waits for Succeeded (and the kept file) | Initializing                   |
 * | `started`    | launcher, just before it execs the worker: `pid=` (the worker's, after exec), `cgroup=` (the unit's, from /proc/self/cgroup, or `-`), `kind=foreground\|forking` | Healthy while the worker lives (see workerAlive) |
 * | `restarting` | ExecStopPost: it stopped, and systemd will start it again: `why=`, `within=` (seconds until the launcher must have written again) | Initializing for `within` s, then Unhealthy |
 * | `stopped`    | ExecStopPost: it stopped, and the unit will not restart it: `why=` (a final waiter answer, no usable Node.js, a clean exit, a stop) | Unhealthy |
 *
 * File `drain`, written by the drain watcher (root, `waiter.js drain-watcher`) just before it stops
 * the worker for a Scheduled Event, and removed just before it starts the worker again:
 *
 * | phase        | writer, when                                                | answer                          |
 * |--------------|-------------------------------------------------------------|---------------------------------|
 * | `draining`   | drain watcher: `event=` (EventId), `type=` (Preempt, Terminate, Reboot, ...) | Initializing, whatever `worker` says |
 *
 * Precedence: a `draining` record comes first. A drain stops the worker on purpose, and the worker
 * unit's ExecStopPost= then writes `stopped` (a `systemctl stop` is final to it), which alone would
 * answer Unhealthy and have automatic repairs act on a VM Azure is about to take anyway. Initializing
 * sends no work and triggers no repair (README, "Health while draining"). Any other `drain` phase (a
 * newer writer) is ignored: the worker rule decides.
 *
 * Adding a state: a file name in HEALTH_STATE_FILES, its phases, one rule in decideHealth (ahead of
 * the worker rule if it overrides it), and a row above.
 */

/** Where the state lives on the VM: tmpfs, owned by workerUser (the writers run as that user). */
export const HEALTH_STATE_DIR = "/run/hpc-worker-state";

/** One file per writer, relative to the state directory. */
export const HEALTH_STATE_FILES = {
  /** The worker's lifecycle, from the launcher and the worker unit's ExecStopPost=. */
  worker: "worker",
  /** A drain for a Scheduled Event, from the drain watcher (absent when none runs). */
  drain: "drain",
} as const;

/** The phase of the `drain` file. */
export const DRAINING_PHASE = "draining";

/** Pure: the drain watcher's record for a drain (field values may hold no blanks). */
export function drainingRecord(uptimeSeconds: number, eventId: string, eventType: string): string {
  const word = (s: string) => s.replace(/\s+/g, "_") || "-";
  return `${DRAINING_PHASE} since=${Math.floor(uptimeSeconds)} event=${word(eventId)} type=${word(eventType)}\n`;
}

/** The phases of the `worker` file (see the table above). */
export const WorkerPhase = {
  Node: "node",
  Waiting: "waiting",
  Started: "started",
  Restarting: "restarting",
  Stopped: "stopped",
} as const;
export type WorkerPhase = (typeof WorkerPhase)[keyof typeof WorkerPhase];

/** `kind=` of a started worker: the component's workerKind values. */
export const STARTED_KIND_FORKING = "forking";

/** The Rich Health States the endpoint answers (the extension accepts Healthy and Unhealthy; anything else is Unknown to it). */
export const HealthState = {
  Initializing: "Initializing",
  Healthy: "Healthy",
  Unhealthy: "Unhealthy",
} as const;
export type HealthState = (typeof HealthState)[keyof typeof HealthState];

export interface StateRecord {
  phase: string;
  fields: Record<string, string>;
}

export interface HealthVerdict {
  state: HealthState;
  /** One line for the journal: why this answer. */
  reason: string;
}

/** The record on a file's first line, or undefined when the file is empty or not a record. */
export function parseRecord(text: string | undefined): StateRecord | undefined {
  const words = (text || "").split("\n")[0].trim().split(/\s+/);
  if (!/^[a-z][a-z-]*$/.test(words[0])) return undefined;
  const fields: Record<string, string> = {};
  for (const word of words.slice(1)) {
    const eq = word.indexOf("=");
    if (eq > 0) fields[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return { phase: words[0], fields };
}

/** A field as a non-negative number, or undefined. */
function numberField(record: StateRecord, key: string): number | undefined {
  const value = record.fields[key];
  return value !== undefined && /^\d+(\.\d+)?$/.test(value) ? parseFloat(value) : undefined;
}

/** What the server observed besides the files. */
export interface HealthFacts {
  worker?: StateRecord;
  /** The drain watcher's record, when a drain runs. */
  drain?: StateRecord;
  /** Whether a `started` worker still runs; undefined when that cannot be observed. */
  workerAlive?: boolean;
  /** Seconds since boot, the clock of every `since=`. */
  uptimeSeconds: number;
}

/** Pure: the answer and why. */
export function decideHealth(facts: HealthFacts): HealthVerdict {
  const drain = facts.drain;
  if (drain && drain.phase === DRAINING_PHASE) {
    const f = drain.fields;
    return {
      state: HealthState.Initializing,
      reason: `draining for ${f.type || "an event"} ${f.event || ""} since ${f.since || "?"} s`.replace("  ", " "),
    };
  }
  const worker = facts.worker;
  if (!worker) return { state: HealthState.Initializing, reason: "nothing has run since boot" };
  const why = worker.fields.why || "unknown";
  switch (worker.phase) {
    case WorkerPhase.Node:
      return { state: HealthState.Initializing, reason: "waiting for Node.js" };
    case WorkerPhase.Waiting:
      return { state: HealthState.Initializing, reason: "the waiter waits for Succeeded" };
    case WorkerPhase.Started:
      if (facts.workerAlive !== false) return { state: HealthState.Healthy, reason: "the worker runs" };
      return worker.fields.kind === STARTED_KIND_FORKING
        ? {
            state: HealthState.Unhealthy,
            reason: "the forking worker's processes are gone",
          }
        : { state: HealthState.Initializing, reason: "the worker exited; restart pending" };
    case WorkerPhase.Restarting: {
      const since = numberField(worker, "since");
      const within = numberField(worker, "within");
      if (since !== undefined && within !== undefined && facts.uptimeSeconds > since + within) {
        return {
          state: HealthState.Unhealthy,
          reason: `stopped (${why}), not restarted within ${within} s`,
        };
      }
      return { state: HealthState.Initializing, reason: `stopped (${why}); restarting` };
    }
    case WorkerPhase.Stopped:
      return { state: HealthState.Unhealthy, reason: `stopped for good (${why})` };
    default:
      // A record from a newer writer: not a reason to have the VM repaired.
      return { state: HealthState.Initializing, reason: `unknown worker phase "${worker.phase}"` };
  }
}

/** What the server needs from the machine; tests pass fakes. */
export interface HealthEnv {
  /** A file's text, or undefined when absent or unreadable (never throws). */
  readFile(path: string): Promise<string | undefined>;
  /** Seconds since boot, on the same clock as /proc/uptime. */
  uptimeSeconds(): number;
  /** Whether a process with this id exists. */
  processAlive(pid: number): boolean;
}

export interface HealthPaths {
  stateDir: string;
  /** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup). */
  cgroupRoot: string;
}

/** "populated 1" in cgroup.events (cgroup v2): a process is in the cgroup or below it. */
async function cgroupPopulated(env: HealthEnv, root: string, cgroup: string | undefined) {
  if (!cgroup || cgroup.charAt(0) !== "/" || cgroup.indexOf("..") >= 0) return undefined;
  const match = /^populated (\d)/m.exec((await env.readFile(`${root}${cgroup}/cgroup.events`)) || "");
  return match ? match[1] === "1" : undefined;
}

/**
 * Whether a started worker still runs. A foreground worker is the launcher's own pid (it
 * exec'd), whose exit is exact even while systemd stops leftover processes. A forking one
 * exits after forking its daemon, so its cgroup tells: populated while any daemon process lives.
 */
export async function workerAlive(env: HealthEnv, paths: HealthPaths, worker: StateRecord) {
  const cgroup = () => cgroupPopulated(env, paths.cgroupRoot, worker.fields.cgroup);
  if (worker.fields.kind === STARTED_KIND_FORKING) return cgroup();
  const pid = numberField(worker, "pid");
  return pid ? env.processAlive(pid) : cgroup();
}

/** Reads the state (two or three small files) and decides. */
export async function readHealth(env: HealthEnv, paths: HealthPaths): Promise<HealthVerdict> {
  const drain = parseRecord(await env.readFile(`${paths.stateDir}/${HEALTH_STATE_FILES.drain}`));
  const worker = parseRecord(await env.readFile(`${paths.stateDir}/${HEALTH_STATE_FILES.worker}`));
  const draining = drain && drain.phase === DRAINING_PHASE;
  const alive =
    worker && worker.phase === WorkerPhase.Started && !draining ? await workerAlive(env, paths, worker) : undefined;
  return decideHealth({ worker, drain, workerAlive: alive, uptimeSeconds: env.uptimeSeconds() });
}
