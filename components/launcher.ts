/**
 * The launcher: the one process `hpc-worker.service` runs, as workerUser, in every delivery mode.
 * It backs off when the worker crash-loops, waits for a usable Node.js (installed meanwhile by
 * `hpc-node-install.service`), runs the waiter, and only on its `Succeeded` execs the worker.
 * Every way it can end is either restartable or a final exit status the unit will not restart.
 */
import { NODE_INSTALL_UNIT, WAITER_PATH, WORKER_COMMAND_PATH, WORKER_UNIT, shortUnitName } from "./defaults";
import { LauncherOptions, WorkerKind, shellQuote, waiterArguments } from "./delivery";
import { renderRecordFunction, renderRecordStarted } from "./healthRecord";
import { WorkerPhase } from "../agent/src/core/healthState";
import { DEFAULT_WAITER_TIMEOUT_SECONDS, WAITER_EXIT_OFFSET, WAITER_MIN_NODE_MAJOR } from "./waiterContract";

/** Launcher back-off: first extra delay, cap, and how long a run must last to reset it. */
export const BACKOFF_INITIAL_SECONDS = 5;
export const BACKOFF_MAX_SECONDS = 300;
export const BACKOFF_RESET_AFTER_SECONDS = 600;

/**
 * Final: there is no usable Node.js. The installer gave up (its deadline passed), installNodejs
 * is false on an image without node, or node is older than WAITER_MIN_NODE_MAJOR. Below the
 * waiter's 90 + n range, so a worker's own exit codes stay restartable.
 */
export const LAUNCHER_NO_USABLE_NODE_EXIT = 89;
/** Restartable: the worker command file is unreadable (sysexits EX_NOINPUT). */
export const LAUNCHER_NO_COMMAND_EXIT = 66;

/** How often the launcher looks for `node` while the installer works. */
export const NODE_WAIT_POLL_SECONDS = 3;
/**
 * How long past the installer's own deadline the launcher still waits when it cannot ask systemd
 * about the installer (no D-Bus): one last apt attempt (lock wait and download) fits in it.
 */
export const NODE_WAIT_GRACE_SECONDS = 300;

/** The shell function that says whether $NODE runs the agent bundle (the launcher's and the drain watcher's test). */
export const NODE_WORKS_FUNCTION = `node_works() {
  "$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= ${WAITER_MIN_NODE_MAJOR} ? 0 : 1)' >/dev/null 2>&1
}`;

export interface LauncherRenderOptions extends LauncherOptions {
  /** Whether hpc-node-install.service ships and may still be installing Node.js. */
  installNodejs: boolean;
  /** Recorded with the started worker, for the health endpoint's liveness check. Default foreground. */
  workerKind?: WorkerKind;
}

/**
 * Waits for a node that runs the waiter while the installer works, and gives up (final) once the
 * installer stopped without leaving one. "Runs", not `command -v node`: dpkg unpacks /usr/bin/node
 * before the library it links (libnode), so node exists a while before it works.
 */
function waitForInstalledNode(deadlineSeconds: number): string {
  const limit = deadlineSeconds + NODE_WAIT_GRACE_SECONDS;
  const unit = NODE_INSTALL_UNIT;
  return `waited=0
until node_works; do
  installer=$(systemctl show --property=ActiveState --value ${unit} 2>/dev/null) || installer=unknown
  case "$installer" in
    active | activating | reloading | unknown | "") ;;
    *)
      # It may have finished between the two looks.
      node_works && break
      no_usable_node "${unit} is $installer and left $(node_says) (journalctl -u ${shortUnitName(unit)} says why)"
      ;;
  esac
  if [ "$waited" -ge ${limit} ]; then
    no_usable_node "still $(node_says) after $waited s, and systemd cannot tell whether ${unit} runs"
  fi
  [ "$waited" -eq 0 ] && report "waiting for Node.js: ${unit} is installing it (journalctl -u ${shortUnitName(unit)})"
  sleep ${NODE_WAIT_POLL_SECONDS}
  waited=$((waited + ${NODE_WAIT_POLL_SECONDS}))
done`;
}

function requireImageNode(): string {
  return `node_works || no_usable_node "installNodejs is false and the image has $(node_says): use an image with Node.js >= ${WAITER_MIN_NODE_MAJOR}, or set installNodejs"`;
}

/**
 * The launcher script. The command is read from a file, so no quoting layer ever touches it, and
 * the trailing `x` keeps any trailing newlines that `$(...)` would strip. The variables at the
 * top are its only paths; tests swap them for stubs.
 */
export function renderLauncher(options: LauncherRenderOptions): string {
  const waiterArgs = waiterArguments(options).map(shellQuote).join(" ");
  const deadline = options.timeoutSeconds ?? DEFAULT_WAITER_TIMEOUT_SECONDS;
  return `#!/bin/sh
# hpc-workers launcher: runs inside ${WORKER_UNIT} in every delivery mode.
# Waits for Node.js, then until Azure reports this VM Succeeded, then execs the worker command.
# State: systemctl status ${shortUnitName(WORKER_UNIT)}; logs: journalctl -u ${shortUnitName(WORKER_UNIT)} -u ${shortUnitName(NODE_INSTALL_UNIT)}
set -u
NODE=node
WAITER=${WAITER_PATH}
WORKER_COMMAND_FILE=${WORKER_COMMAND_PATH}
WORKER_SHELL=/bin/sh
${renderRecordFunction()}

# One journal line, also shown as the unit's Status: by systemctl status.
report() {
  echo "hpc-workers: $1" >&2
  if [ -n "\${NOTIFY_SOCKET:-}" ]; then
    systemd-notify --status="$1" 2>/dev/null || true
  fi
}

no_usable_node() {
  report "final: no usable Node.js: $1. The worker is not started (unit exit status ${LAUNCHER_NO_USABLE_NODE_EXIT}, not restarted); once fixed: systemctl restart ${shortUnitName(WORKER_UNIT)}"
  exit ${LAUNCHER_NO_USABLE_NODE_EXIT}
}

${NODE_WORKS_FUNCTION}

node_says() {
  if command -v "$NODE" >/dev/null 2>&1; then
    echo "node $("$NODE" --version 2>/dev/null), which cannot run the waiter (it needs Node.js >= ${WAITER_MIN_NODE_MAJOR})"
  else
    echo "no node"
  fi
}

# A worker that keeps failing soon after it starts is restarted ever more slowly;
# a run longer than ${BACKOFF_RESET_AFTER_SECONDS} s resets the back-off.
state_file="\${RUNTIME_DIRECTORY:-/tmp}/backoff"
now=$(date +%s)
delay=0
if [ -r "$state_file" ] && read -r last_start last_delay < "$state_file"; then
  if [ $((now - last_start)) -lt ${BACKOFF_RESET_AFTER_SECONDS} ]; then
    delay=$((last_delay * 2))
    [ "$delay" -lt ${BACKOFF_INITIAL_SECONDS} ] && delay=${BACKOFF_INITIAL_SECONDS}
    [ "$delay" -gt ${BACKOFF_MAX_SECONDS} ] && delay=${BACKOFF_MAX_SECONDS}
  fi
fi
echo "$((now + delay)) $delay" > "$state_file" 2>/dev/null || true
if [ "$delay" -gt 0 ]; then
  report "the worker stopped soon after its last start; backing off $delay s"
  sleep "$delay"
fi

record ${WorkerPhase.Node}
${options.installNodejs ? waitForInstalledNode(deadline) : requireImageNode()}

record ${WorkerPhase.Waiting}
report "waiting for Azure to report this VM Succeeded (node $("$NODE" --version))"
"$NODE" "$WAITER" ${waiterArgs}
waiter_status=$?
if [ "$waiter_status" -ne 0 ]; then
  report "the waiter exited with $waiter_status; the worker is not started (unit exit status $((${WAITER_EXIT_OFFSET} + waiter_status)))"
  exit $((${WAITER_EXIT_OFFSET} + waiter_status))
fi

if ! command=$(cat "$WORKER_COMMAND_FILE" && printf x); then
  report "cannot read $WORKER_COMMAND_FILE; the worker is not started"
  exit ${LAUNCHER_NO_COMMAND_EXIT}
fi
command=\${command%x}
report "this VM is Succeeded; starting the worker"
# The worker gets the environment it had before the launcher reported through systemd-notify.
unset NOTIFY_SOCKET
${renderRecordStarted(options.workerKind ?? WorkerKind.Foreground)}
exec "$WORKER_SHELL" -c "$command"
`.replace(/ \n/g, "\n");
}
