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
import { HEALTH_STATE_DIR, HealthState, WorkerPhase } from "../agent/src/core/healthState";
import {
  HEALTH_SERVER_PATH,
  HEALTH_SOCKET_UNIT,
  HEALTH_UNIT,
  STOP_RECORDER_PATH,
  WAITER_PATH,
  WORKER_UNIT,
  shortUnitName,
} from "./defaults";
import { shellQuote } from "./delivery";
import { HEALTH_STATE_FILE, renderRecordFunction } from "./healthRecord";
import { BACKOFF_MAX_SECONDS, LAUNCHER_NO_USABLE_NODE_EXIT } from "./launcher";
import { RESTART_SEC, UnitSection, WORKER_UNIT_FINAL_EXIT_STATUSES, renderUnitFile } from "./units";
import { WAITER_EXIT_OFFSET } from "./waiterContract";

export const HEALTH_SOCKET_UNIT_PATH = `/etc/systemd/system/${HEALTH_SOCKET_UNIT}`;
export const HEALTH_UNIT_PATH = `/etc/systemd/system/${HEALTH_UNIT}`;

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
 * How long after a failed worker stops the launcher must have started again (RestartSec plus its
 * largest back-off, plus slack): past this, the health endpoint takes the unit as stopped for good.
 */
export function restartRecordWithinSeconds(): number {
  return RESTART_SEC + BACKOFF_MAX_SECONDS + RESTART_RECORD_SLACK_SECONDS;
}

/** The name each final exit status of the worker unit is recorded with (`why=`). */
export function finalStatusName(status: number): string {
  if (status === LAUNCHER_NO_USABLE_NODE_EXIT) return "no-usable-node";
  const name = Object.entries(EXIT_CODES).find(([, code]) => WAITER_EXIT_OFFSET + code === status);
  return name ? name[0] : `exit-${status}`;
}

/** The unit's final exit statuses (RestartPreventExitStatus=), by name. */
function finalStatusCases(): string {
  return WORKER_UNIT_FINAL_EXIT_STATUSES.map((status) => `    ${status}) final=${finalStatusName(status)} ;;`).join(
    "\n",
  );
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

/**
 * The answer while this VM has no Node.js (it is being installed, or never will be: the launcher's
 * final "no usable Node.js"), on systemd's socket (fd 3) with python3, which every cloud-init
 * image has. Without node no worker can run, so it knows two answers: Unhealthy once the worker
 * unit stopped for good (`stopped`), else Initializing. Arguments: the state file and the node
 * command. It exits as soon as that command appears (after answering a probe), and
 * systemd restarts the service, which then becomes the bundle's health server.
 */
export const NO_NODE_RESPONDER = `
import os, shutil, socket, sys
listener = socket.socket(fileno=3)
while True:
    conn, _ = listener.accept()
    try:
        conn.settimeout(5)
        request = b""
        while b"\\r\\n\\r\\n" not in request and len(request) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            request += chunk
        try:
            phase = open(sys.argv[1]).read().split()[0]
        except Exception:
            phase = ""
        state = "${HealthState.Unhealthy}" if phase == "${WorkerPhase.Stopped}" else "${HealthState.Initializing}"
        body = '{"ApplicationHealthState":"%s"}' % state
        head = "HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n"
        conn.sendall((head % len(body) + body).encode())
        conn.shutdown(socket.SHUT_WR)
    except Exception:
        pass
    conn.close()
    if shutil.which(sys.argv[2]):
        sys.exit(0)
`;

/**
 * The health service's start script: the bundle's health server once Node.js works; until then the
 * python3 responder above on systemd's socket, or, without python3, nothing (probes wait on the
 * socket and the extension reads their timeout as Unknown).
 */
export function renderHealthServerScript(options: { port: number }): string {
  return `#!/bin/sh
# hpc-workers: the health endpoint behind ${HEALTH_SOCKET_UNIT} (127.0.0.1:${options.port}).
set -u
NODE=node
WAITER=${WAITER_PATH}
STATE=${HEALTH_STATE_FILE}
waited=0
# --version loads node and its libraries (dpkg unpacks node before libnode) without starting V8.
until "$NODE" --version >/dev/null 2>&1; do
  if [ "\${LISTEN_FDS:-0}" = 1 ] && command -v python3 >/dev/null 2>&1; then
    echo "hpc-workers: no working Node.js yet; answering health probes from python3 until there is" >&2
    exec python3 -c ${shellQuote(NO_NODE_RESPONDER)} "$STATE" "$NODE"
  fi
  [ "$waited" -eq 0 ] && echo "hpc-workers: waiting for Node.js before answering health probes" >&2
  sleep ${HEALTH_NODE_POLL_SECONDS}
  waited=$((waited + ${HEALTH_NODE_POLL_SECONDS}))
done
exec "$NODE" "$WAITER" ${HEALTH_SERVER_COMMAND} --port ${options.port} --state-dir ${HEALTH_STATE_DIR}
`;
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
      ["SyslogIdentifier", shortUnitName(HEALTH_UNIT)],
    ],
  });
}

/** Every file of the health endpoint, for the custom data's write_files. */
export function healthFiles(options: { port: number; workerUser: string }) {
  return [
    {
      path: STOP_RECORDER_PATH,
      content: renderStopRecorder({ restartWithinSeconds: restartRecordWithinSeconds() }),
      permissions: "0755",
    },
    { path: HEALTH_SERVER_PATH, content: renderHealthServerScript({ port: options.port }), permissions: "0755" },
    { path: HEALTH_SOCKET_UNIT_PATH, content: renderHealthSocketUnit({ port: options.port }), permissions: "0644" },
    {
      path: HEALTH_UNIT_PATH,
      content: renderHealthServiceUnit({ workerUser: options.workerUser }),
      permissions: "0644",
    },
  ];
}
