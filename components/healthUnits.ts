/**
 * What feeds the health endpoint on the VM: its socket and service units, its start script, and the
 * writers of the state it answers from (the launcher's `record` calls and the worker unit's
 * ExecStopPost= script). The state contract itself (paths, phases, answers) is
 * agent/src/core/healthState.ts; everything here renders from its names.
 *
 * Why a socket unit: systemd binds 127.0.0.1:PORT at sockets.target, early in every boot and before
 * Node.js runs (at first boot it may still be being installed), and queues connections until the
 * service answers them; the service restarting never refuses a probe either. Nothing here holds
 * the boot: a socket unit's start is the bind, and the service is Type=exec, started on demand.
 */
import { EXIT_CODES } from "../agent/src/core/exitCodes";
import { HEALTH_SERVER_COMMAND } from "../agent/src/core/healthServer";
import { HEALTH_STATE_DIR, HEALTH_STATE_FILES, WorkerPhase } from "../agent/src/core/healthState";
import { HEALTH_SERVER_PATH, HEALTH_SOCKET_UNIT, HEALTH_UNIT, WAITER_PATH, WORKER_UNIT } from "./defaults";
import { WAITER_EXIT_OFFSET, WAITER_FINAL_EXIT_CODES } from "./waiterContract";

export const HEALTH_SOCKET_UNIT_PATH = `/etc/systemd/system/${HEALTH_SOCKET_UNIT}`;
export const HEALTH_UNIT_PATH = `/etc/systemd/system/${HEALTH_UNIT}`;
export const HEALTH_STATE_FILE = `${HEALTH_STATE_DIR}/${HEALTH_STATE_FILES.worker}`;

/** The health service restarts 5 s after a crash (its socket keeps the probes queued meanwhile). */
export const HEALTH_RESTART_SEC = 5;
/** How often the start script looks for a working Node.js while the first boot installs it. */
export const HEALTH_NODE_POLL_SECONDS = 5;
/**
 * Slack on top of the worker's longest restart (RestartSec plus the launcher's largest back-off)
 * before a `restarting` record counts as stale: the unit was stopped while it waited to restart.
 */
export const RESTART_RECORD_SLACK_SECONDS = 60;

/**
 * The shell function both writers use: `record PHASE ["key=value ..."]` replaces the state file with
 * one line (a temporary file in the same directory, then `mv`), stamped with seconds since boot
 * (/proc/uptime, the clock the health server compares with). Best effort: a missing state
 * directory never stops the worker.
 */
export function renderRecordFunction(): string {
  return `HEALTH_STATE=${HEALTH_STATE_FILE}
# The health endpoint's view of the worker (agent/src/core/healthState.ts): one line, replaced whole.
record() {
  up=0
  read -r up _ < /proc/uptime 2>/dev/null || true
  if printf '%s since=%s%s\\n' "$1" "\${up%.*}" "\${2:+ $2}" > "$HEALTH_STATE.$$" 2>/dev/null; then
    mv -f "$HEALTH_STATE.$$" "$HEALTH_STATE" 2>/dev/null || rm -f "$HEALTH_STATE.$$"
  fi
}`;
}

/**
 * The launcher's record of a started worker, just before it execs it: its pid (the launcher's, which
 * the worker keeps), the unit's cgroup (/proc/self/cgroup, cgroup v2) and its kind (the WorkerKind).
 */
export function renderRecordStarted(kind: string): string {
  return `cgroup=-
while IFS= read -r line; do
  case $line in 0::*) cgroup=\${line#0::} ;; esac
done < /proc/self/cgroup 2>/dev/null
record ${WorkerPhase.Started} "pid=$$ cgroup=$cgroup kind=${kind}"`;
}

/** The waiter's final answers as the unit sees them (90 + code), by name. */
function finalStatusCases(): string {
  const names = Object.entries(EXIT_CODES).filter(([, code]) =>
    WAITER_FINAL_EXIT_CODES.includes(WAITER_EXIT_OFFSET + code),
  );
  return names.map(([name, code]) => `    ${WAITER_EXIT_OFFSET + code}) final=${name} ;;`).join("\n");
}

/**
 * The worker unit's ExecStopPost=: whether systemd starts the worker again. Restart=on-failure
 * restarts unless the result is success (exit 0, or a clean signal such as the SIGTERM of a stop)
 * or the exit status is one of RestartPreventExitStatus (the waiter's final answers). systemd passes
 * $SERVICE_RESULT, $EXIT_CODE and $EXIT_STATUS (systemd.exec(5), "Environment Variables Set or
 * Propagated by the Service Manager").
 */
export function renderStopRecorder(options: { restartWithinSeconds: number }): string {
  return `#!/bin/sh
# hpc-workers: ExecStopPost= of ${WORKER_UNIT}. Records for the health endpoint whether systemd
# starts the worker again (Initializing meanwhile) or it stopped for good (Unhealthy).
set -u
${renderRecordFunction()}

result=\${SERVICE_RESULT:-}
code=\${EXIT_CODE:-}
status=\${EXIT_STATUS:-}
final=
if [ "$code" = exited ]; then
  case $status in
${finalStatusCases()}
  esac
fi
if [ -n "$final" ]; then
  record ${WorkerPhase.Stopped} "why=$final"
elif [ "$result" = success ]; then
  record ${WorkerPhase.Stopped} "why=$code-$status"
else
  record ${WorkerPhase.Restarting} "why=$code-$status within=${options.restartWithinSeconds}"
fi
exit 0
`;
}

/** The health service's start script: waits for a working Node.js, then becomes the health server. */
export function renderHealthServerScript(options: { port: number }): string {
  return `#!/bin/sh
# hpc-workers: the health endpoint behind ${HEALTH_SOCKET_UNIT} (127.0.0.1:${options.port}).
# At first boot Node.js may still be being installed: probes wait on the socket meanwhile.
set -u
NODE=node
WAITER=${WAITER_PATH}
waited=0
until "$NODE" -e 0 >/dev/null 2>&1; do
  [ "$waited" -eq 0 ] && echo "hpc-workers: waiting for Node.js before answering health probes" >&2
  sleep ${HEALTH_NODE_POLL_SECONDS}
  waited=$((waited + ${HEALTH_NODE_POLL_SECONDS}))
done
exec "$NODE" "$WAITER" ${HEALTH_SERVER_COMMAND} --port ${options.port} --state-dir ${HEALTH_STATE_DIR}
`;
}

export type UnitSection = Array<[string, string | number]>;

/** INI-style unit text from key/value pairs; every value here is fixed or validated. */
export function renderUnitFile(sections: Record<string, UnitSection>): string {
  return Object.entries(sections)
    .map(([name, entries]) => `[${name}]\n${entries.map(([k, v]) => `${k}=${v}`).join("\n")}\n`)
    .join("\n");
}

export function renderHealthSocketUnit(options: { port: number }): string {
  return renderUnitFile({
    Unit: [["Description", `hpc-workers health endpoint socket (127.0.0.1:${options.port}, Application Health)`]],
    Socket: [["ListenStream", `127.0.0.1:${options.port}`]],
    Install: [["WantedBy", "sockets.target"]],
  });
}

/**
 * Started by its socket on the first probe, as workerUser (the state files are that user's), read-only
 * everywhere: it only reads the state and the worker's cgroup.
 */
export function renderHealthServiceUnit(options: { workerUser: string }): string {
  return renderUnitFile({
    Unit: [
      ["Description", "hpc-workers health endpoint (answers the Application Health extension)"],
      ["Requires", HEALTH_SOCKET_UNIT],
      ["After", HEALTH_SOCKET_UNIT],
      // Never give up: the socket keeps queueing probes for it.
      ["StartLimitIntervalSec", 0],
    ],
    Service: [
      ["Type", "exec"],
      ["User", options.workerUser],
      ["ExecStart", HEALTH_SERVER_PATH],
      ["Restart", "always"],
      ["RestartSec", HEALTH_RESTART_SEC],
      ["NoNewPrivileges", "yes"],
      ["ProtectSystem", "strict"],
      ["ProtectHome", "yes"],
      ["PrivateTmp", "yes"],
      ["SyslogIdentifier", HEALTH_UNIT.replace(/\.service$/, "")],
    ],
  });
}
