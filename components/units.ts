/**
 * The systemd units shipped to the VM: `hpc-worker.service` (every mode) and, when installNodejs
 * is on, `hpc-node-install.service`, which the worker unit pulls in. The drain watcher's unit is
 * drainUnit.ts.
 *
 * Nothing here may hold the boot. Both units are Type=exec: a start job is done as soon as the
 * process is exec'd. That matters twice: multi-user.target gets an implicit After= on every unit
 * it Wants (so a waiting start job would hold it, and cloud-final behind it), and the worker's
 * After= on the installer then orders only the two exec()s, never the install itself.
 */
import { HEALTH_STATE_DIR } from "../agent/src/core/healthState";
import {
  DRAIN_UNIT,
  LAUNCHER_PATH,
  NODE_INSTALLER_PATH,
  NODE_INSTALL_UNIT,
  STOP_RECORDER_PATH,
  WORKER_UNIT,
  shortUnitName,
} from "./defaults";
import { assertNever, WorkerKind } from "./delivery";
import { LAUNCHER_NO_USABLE_NODE_EXIT } from "./launcher";
import { WAITER_FINAL_EXIT_CODES } from "./waiterContract";

export const UNIT_PATH = `/etc/systemd/system/${WORKER_UNIT}`;
export const NODE_INSTALL_UNIT_PATH = `/etc/systemd/system/${NODE_INSTALL_UNIT}`;

/** Restart delay after the worker fails; the launcher adds exponential back-off on top. */
export const RESTART_SEC = 10;

/** Exit statuses of the worker unit that are final: restarting cannot change them. */
export const WORKER_UNIT_FINAL_EXIT_STATUSES: readonly number[] = [
  LAUNCHER_NO_USABLE_NODE_EXIT,
  ...WAITER_FINAL_EXIT_CODES,
].sort((a, b) => a - b);

export type UnitSection = Array<[string, string | number]>;

/** INI-style unit text from key/value pairs; every value here is fixed or validated. */
export function renderUnitFile(sections: Record<string, UnitSection>): string {
  return Object.entries(sections)
    .map(([name, entries]) => `[${name}]\n${entries.map(([k, v]) => `${k}=${v}`).join("\n")}\n`)
    .join("\n");
}

/**
 * The one unit every mode uses. The waiter's final codes and the launcher's "no usable
 * Node.js" must not restart-loop. With installNodejs it Wants= the installer, so every start
 * (boot, `systemctl restart hpc-worker`) retries an install that gave up.
 */
export function renderWorkerUnit(options: {
  workerUser: string;
  workerKind: WorkerKind;
  installNodejs: boolean;
  /** The worker's drain time: a stop (the drain watcher's, a shutdown's) SIGKILLs what is left after it. */
  drainSeconds: number;
}): string {
  const unit: UnitSection = [
    ["Description", "hpc-workers worker (starts once Azure reports this VM Succeeded)"],
    ["Wants", "network-online.target"],
    ["After", "network-online.target"],
    // Whatever starts the worker also starts the drain watcher (it is enabled on its own too).
    ["Wants", DRAIN_UNIT],
  ];
  if (options.installNodejs) {
    // After= a Type=exec unit waits for its exec() only: the launcher then finds the installer
    // running (or done), never the state of an earlier run.
    unit.push(["Wants", NODE_INSTALL_UNIT], ["After", NODE_INSTALL_UNIT]);
  }
  // Restarts are paced by RestartSec and the launcher's back-off; never give up for good.
  unit.push(["StartLimitIntervalSec", 0]);
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
    ["RestartPreventExitStatus", WORKER_UNIT_FINAL_EXIT_STATUSES.join(" ")],
    // The launcher reports its phase (waiting for Node.js, for Succeeded) on `systemctl status`'s
    // Status: line through systemd-notify, a child process: hence all, not main.
    ["NotifyAccess", "all"],
    ["RuntimeDirectory", "hpc-workers"],
    ["RuntimeDirectoryPreserve", "restart"],
    ["SyslogIdentifier", shortUnitName(WORKER_UNIT)],
    // systemd's own SIGKILL after a stop's SIGTERM: the worker's contract ("finish or hand back the
    // task within drainSeconds") holds for a shutdown too. The drain watcher kills sooner when the
    // notice left is shorter, and never later than this.
    ["TimeoutStopSec", options.drainSeconds],
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
    Unit: unit,
    Service: service,
    Install: [["WantedBy", "multi-user.target"]],
  });
}

/**
 * The installer's unit: root, Type=exec, no [Install] (only the worker unit pulls it in) and no
 * Restart= (the script retries on its own, up to its deadline, and then stays failed so the
 * launcher can tell "gave up" from "still trying").
 */
export function renderNodeInstallUnit(): string {
  return renderUnitFile({
    Unit: [
      ["Description", "hpc-workers: install Node.js for the waiter (retries until the waiter's timeout)"],
      ["Wants", "network-online.target"],
      ["After", "network-online.target"],
    ],
    Service: [
      ["Type", "exec"],
      ["ExecStart", NODE_INSTALLER_PATH],
      ["SyslogIdentifier", shortUnitName(NODE_INSTALL_UNIT)],
    ],
  });
}
