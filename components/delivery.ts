/**
 * What runs on the VM, per delivery mode. Every mode installs the same launcher and the
 * same `hpc-worker.service` unit; the modes differ only in what starts that unit:
 *
 * - systemd:      cloud-init enables it (`--now --no-block`), so it starts on every boot;
 * - cloudInit:    a per-boot script starts it (`--no-block`) on every boot;
 * - customScript: the extension's command starts it once cloud-final is done, once per model change.
 *
 * Nothing here waits: every trigger returns at once, and the waiting happens inside the
 * unit (Type=exec), whose start job completes as soon as the launcher is exec'd.
 */
import {
  KEPT_FILE_PATH,
  LAUNCHER_PATH,
  STOP_RECORDER_PATH,
  WAITER_PATH,
  WORKER_COMMAND_PATH,
  WORKER_UNIT,
} from "./defaults";
import { HEALTH_STATE_DIR, WorkerPhase } from "../agent/src/core/healthState";
import {
  RESTART_RECORD_SLACK_SECONDS,
  renderRecordFunction,
  renderRecordStarted,
  renderUnitFile,
  UnitSection,
} from "./healthUnits";
import { WAITER_EXIT_OFFSET, WAITER_FINAL_EXIT_CODES } from "./waiterContract";

/** How the worker is triggered on the VM. The launcher and the waiter are the same in every mode. */
export const DeliveryMode = {
  /** A systemd unit, written by cloud-init, that starts on every boot. */
  Systemd: "systemd",
  /** A cloud-init per-boot script that starts the worker unit detached on every boot. */
  CloudInit: "cloudInit",
  /** The Custom Script Extension v2: runs once per model change, just before `Succeeded`; not on reboot. */
  CustomScript: "customScript",
} as const;
export type DeliveryMode = (typeof DeliveryMode)[keyof typeof DeliveryMode];

/** Whether the worker command stays in the foreground or daemonizes (forks and exits). */
export const WorkerKind = {
  /** The command runs until the work is done; systemd supervises it and restarts it on failure. */
  Foreground: "foreground",
  /** The command forks a daemon and exits 0; the unit stays active so the daemon is not killed. */
  Forking: "forking",
} as const;
export type WorkerKind = (typeof WorkerKind)[keyof typeof WorkerKind];

/** Where cloud-init looks for scripts to run on every boot (cc_scripts_per_boot). */
export const PER_BOOT_SCRIPT_PATH = "/var/lib/cloud/scripts/per-boot/hpc-worker";
export const UNIT_PATH = `/etc/systemd/system/${WORKER_UNIT}`;

/** Restart delay after the worker fails; the launcher adds exponential back-off on top. */
export const RESTART_SEC = 10;
/** Launcher back-off: first extra delay, cap, and how long a run must last to reset it. */
export const BACKOFF_INITIAL_SECONDS = 5;
export const BACKOFF_MAX_SECONDS = 300;
export const BACKOFF_RESET_AFTER_SECONDS = 600;

/**
 * How long after a failed worker stops the launcher must have started again (RestartSec plus its
 * largest back-off, plus slack): past this, the health endpoint takes the unit as stopped for good.
 */
export function restartRecordWithinSeconds(): number {
  return RESTART_SEC + BACKOFF_MAX_SECONDS + RESTART_RECORD_SLACK_SECONDS;
}

/** Exit code of the launcher when `node` is missing (sysexits EX_UNAVAILABLE; systemd retries). */
export const LAUNCHER_NO_NODE_EXIT = 69;

export interface LauncherOptions {
  /** The scale set overprovisions: the waiter also waits for the kept file (--kept-file KEPT_FILE_PATH). */
  keptFile: boolean;
  /** Recorded with the started worker, for the health endpoint's liveness check. Default foreground. */
  workerKind?: WorkerKind;
  timeoutSeconds?: number;
  imdsUrl?: string;
  armUrl?: string;
}

/** A POSIX shell single-quoted word: safe for any byte but NUL. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function waiterArguments(options: LauncherOptions): string[] {
  const args: string[] = [];
  if (options.timeoutSeconds !== undefined) args.push("--timeout", String(options.timeoutSeconds));
  if (options.keptFile) args.push("--kept-file", KEPT_FILE_PATH);
  if (options.imdsUrl !== undefined) args.push("--imds-url", options.imdsUrl);
  if (options.armUrl !== undefined) args.push("--arm-url", options.armUrl);
  return args;
}

/**
 * The launcher: back off if the worker is crash-looping, wait for `Succeeded`, then become
 * the worker. The command is read from a file, so no quoting layer ever touches it, and the
 * trailing `x` keeps any trailing newlines that `$(...)` would strip.
 * The four variables at the top are the only paths; tests swap them for stubs.
 */
export function renderLauncher(options: LauncherOptions): string {
  const waiterArgs = waiterArguments(options).map(shellQuote).join(" ");
  return `#!/bin/sh
# hpc-workers launcher: runs inside ${WORKER_UNIT} in every delivery mode.
# Waits until Azure reports this VM Succeeded, then execs the worker command.
# Logs: journalctl -u ${WORKER_UNIT.replace(/\.service$/, "")}
set -u
NODE=node
WAITER=${WAITER_PATH}
WORKER_COMMAND_FILE=${WORKER_COMMAND_PATH}
WORKER_SHELL=/bin/sh
${renderRecordFunction()}

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
  echo "hpc-workers: the worker stopped soon after its last start; backing off $delay s" >&2
  sleep "$delay"
fi

if ! command -v "$NODE" >/dev/null 2>&1; then
  echo "hpc-workers: node is not installed; set installNodejs or use an image with Node.js >= 12; retrying later" >&2
  exit ${LAUNCHER_NO_NODE_EXIT}
fi

record ${WorkerPhase.Waiting}
"$NODE" "$WAITER" ${waiterArgs}
waiter_status=$?
if [ "$waiter_status" -ne 0 ]; then
  echo "hpc-workers: the waiter exited with $waiter_status; the worker is not started (unit exit status $((${WAITER_EXIT_OFFSET} + waiter_status)))" >&2
  exit $((${WAITER_EXIT_OFFSET} + waiter_status))
fi

if ! command=$(cat "$WORKER_COMMAND_FILE" && printf x); then
  echo "hpc-workers: cannot read $WORKER_COMMAND_FILE; the worker is not started" >&2
  exit 66
fi
command=\${command%x}
echo "hpc-workers: this VM is Succeeded; starting the worker" >&2
${renderRecordStarted(options.workerKind ?? WorkerKind.Foreground)}
exec "$WORKER_SHELL" -c "$command"
`.replace(/ \n/g, "\n");
}

/**
 * The one unit every mode uses. Type=exec: the start job is done once the launcher is
 * exec'd, so multi-user.target and cloud-final are never held and no start timeout
 * applies to the wait. The waiter's final codes (gone, failed, usage, timeout) must not
 * restart-loop. The unit and its launcher write the health endpoint's state (healthUnits.ts).
 */
export function renderWorkerUnit(options: { workerUser: string; workerKind: WorkerKind }): string {
  const service: UnitSection = [
    ["Type", "exec"],
    ["User", options.workerUser],
    ["WorkingDirectory", "~"],
    // The health endpoint's state directory (tmpfs: a reboot empties it), the worker user's to write.
    ["ExecStartPre", `+/usr/bin/install -d -o ${options.workerUser} -m 0755 ${HEALTH_STATE_DIR}`],
    ["ExecStart", LAUNCHER_PATH],
    // Records whether systemd restarts the worker or it stopped for good (healthUnits.ts).
    ["ExecStopPost", STOP_RECORDER_PATH],
    ["Restart", "on-failure"],
    ["RestartSec", RESTART_SEC],
    ["RestartPreventExitStatus", WAITER_FINAL_EXIT_CODES.join(" ")],
    ["RuntimeDirectory", "hpc-workers"],
    ["RuntimeDirectoryPreserve", "restart"],
    ["SyslogIdentifier", WORKER_UNIT.replace(/\.service$/, "")],
  ];
  switch (options.workerKind) {
    case WorkerKind.Foreground:
      break;
    case WorkerKind.Forking:
      // The command exits once its daemon is forked; staying active keeps the daemon's cgroup alive.
      service.push(["RemainAfterExit", "yes"]);
      break;
    default:
      return assertNever(options.workerKind, "workerKind");
  }
  return renderUnitFile({
    Unit: [
      ["Description", "hpc-workers worker (starts once Azure reports this VM Succeeded)"],
      ["Wants", "network-online.target"],
      ["After", "network-online.target"],
      // Restarts are paced by RestartSec and the launcher's back-off; never give up for good.
      ["StartLimitIntervalSec", 0],
    ],
    Service: service,
    Install: [["WantedBy", "multi-user.target"]],
  });
}

/** cloudInit mode: start the unit and return at once, so cloud-final is never held. */
export function renderPerBootScript(): string {
  return `#!/bin/sh
# hpc-workers (cloudInit delivery): runs on every boot; starts ${WORKER_UNIT} without waiting for it.
exec systemctl start --no-block ${WORKER_UNIT}
`;
}

/**
 * customScript mode: the extension's commandToExecute. It queues a transient unit ordered
 * after cloud-final (which writes the launcher and installs Node.js) and returns at once,
 * so the extension succeeds and the VM can reach `Succeeded`.
 */
export function customScriptCommand(): string {
  return [
    "systemd-run",
    "--no-block",
    "--collect",
    "--property=After=cloud-final.service",
    "--description=hpc-workers-start-worker",
    "/bin/systemctl",
    "start",
    "--no-block",
    WORKER_UNIT,
  ].join(" ");
}

/** What each mode adds to the shared cloud-init document. */
export interface ModeCloudConfig {
  extraFiles: Array<{ path: string; content: string; permissions: string }>;
  runcmd: string[][];
}

export function modeCloudConfig(delivery: DeliveryMode): ModeCloudConfig {
  switch (delivery) {
    case DeliveryMode.Systemd:
      return { extraFiles: [], runcmd: [["systemctl", "enable", "--now", "--no-block", WORKER_UNIT]] };
    case DeliveryMode.CloudInit:
      return {
        extraFiles: [{ path: PER_BOOT_SCRIPT_PATH, content: renderPerBootScript(), permissions: "0755" }],
        runcmd: [],
      };
    case DeliveryMode.CustomScript:
      return { extraFiles: [], runcmd: [] };
    default:
      return assertNever(delivery, "delivery");
  }
}

export function assertNever(value: never, property: string): never {
  throw new Error(`unknown ${property}: ${JSON.stringify(value)}`);
}
