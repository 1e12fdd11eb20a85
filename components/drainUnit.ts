/**
 * The drain watcher on the VM: `hpc-worker-drain.service` runs `waiter.js drain-watcher` (the same
 * bundle as the waiter) as root, from boot, in every delivery mode. It polls IMDS Scheduled Events
 * once a second; for this VM's Preempt or Terminate it stops `hpc-worker.service` as systemd does
 * (SIGTERM to the unit's processes), SIGKILLs what is left within the notice, then acknowledges
 * the event (agent/src/core/drainWatcher.ts, drainPlan.ts).
 *
 * Why its own unit: Scheduled Events must be polled whatever the worker does (waiting, crashed,
 * stopped for good), the first call enables the service and may take two minutes, and the service
 * is disabled after 24 h without a call. Why root: stopping and killing another unit takes it.
 * https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events
 */
import { DRAIN_SCRIPT_PATH, DRAIN_UNIT, NODE_INSTALL_UNIT, WAITER_PATH, WORKER_UNIT, shortUnitName } from "./defaults";
import { shellQuote } from "./delivery";
import { NODE_WORKS_FUNCTION } from "./launcher";
import { UnitSection, renderUnitFile } from "./units";
import { WAITER_EXIT_CODES } from "./waiterContract";

export const DRAIN_UNIT_PATH = `/etc/systemd/system/${DRAIN_UNIT}`;

/** Restart delay when the watcher ends (IMDS refused it for good, or node crashed): the next call keeps the service enabled. */
export const DRAIN_RESTART_SEC = 5;

/** How often the script looks for a working node while hpc-node-install installs it (the launcher's pace). */
export const DRAIN_NODE_WAIT_SECONDS = 3;

export interface DrainWatcherOptions {
  /** The worker's drain time (drain-watcher --drain-seconds); default: the agent's. */
  drainSeconds?: number;
  /** IMDS override (tests, emulators). */
  imdsUrl?: string;
  /** hpc-node-install.service ships: the watcher pulls it in, so Node.js arrives early in every mode. */
  installNodejs: boolean;
}

export function drainWatcherArguments(options: { drainSeconds?: number; imdsUrl?: string }): string[] {
  const args = ["drain-watcher", "--unit", WORKER_UNIT];
  if (options.drainSeconds !== undefined) args.push("--drain-seconds", String(options.drainSeconds));
  if (options.imdsUrl !== undefined) args.push("--imds-url", options.imdsUrl);
  return args;
}

/** The unit's ExecStart: waits (quietly, once said) for a node that runs the bundle, then execs the watcher. */
export function renderDrainScript(options: { drainSeconds?: number; imdsUrl?: string }): string {
  const args = drainWatcherArguments(options).map(shellQuote).join(" ");
  return `#!/bin/sh
# hpc-workers drain watcher: runs inside ${DRAIN_UNIT} from boot, as root, in every delivery mode.
# Polls Scheduled Events; for this VM's Preempt or Terminate it stops ${WORKER_UNIT} (SIGTERM),
# SIGKILLs it within the notice, then acknowledges the event. Logs: journalctl -u ${shortUnitName(DRAIN_UNIT)}
set -u
NODE=node
WAITER=${WAITER_PATH}

${NODE_WORKS_FUNCTION}

if ! node_works; then
  echo "hpc-workers drain: waiting for Node.js before polling Scheduled Events" >&2
  until node_works; do sleep ${DRAIN_NODE_WAIT_SECONDS}; done
fi
exec "$NODE" "$WAITER" ${args}
`;
}

/**
 * Type=exec, like the worker's units: its start job is done at exec, so it never holds
 * multi-user.target or cloud-final. No After= on the worker: it must run while the worker waits.
 */
export function renderDrainUnit(options: { installNodejs: boolean }): string {
  const unit: UnitSection = [
    ["Description", `hpc-workers drain watcher (Scheduled Events: drains ${WORKER_UNIT} before Azure takes the VM)`],
    ["Wants", "network-online.target"],
    ["After", "network-online.target"],
  ];
  if (options.installNodejs) unit.push(["Wants", NODE_INSTALL_UNIT]);
  unit.push(["StartLimitIntervalSec", 0]);
  return renderUnitFile({
    Unit: unit,
    Service: [
      ["Type", "exec"],
      ["ExecStart", DRAIN_SCRIPT_PATH],
      ["Restart", "always"],
      ["RestartSec", DRAIN_RESTART_SEC],
      // Bad flags stay bad: restarting cannot help. Every other end (refused by IMDS, a crash) restarts.
      ["RestartPreventExitStatus", WAITER_EXIT_CODES.usage],
      ["SyslogIdentifier", shortUnitName(DRAIN_UNIT)],
    ],
    Install: [["WantedBy", "multi-user.target"]],
  });
}
