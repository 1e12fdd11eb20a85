/**
 * What runs on the VM, per delivery mode. Every mode installs the same launcher (launcher.ts)
 * and the same units (units.ts); the modes differ only in what starts `hpc-worker.service`:
 *
 * - systemd:      cloud-init enables it (`--now --no-block`), so it starts on every boot;
 * - cloudInit:    a per-boot script starts it (`--no-block`) on every boot;
 * - customScript: the extension's command starts it once cloud-final is done, once per model change.
 *
 * Nothing here waits: every trigger returns at once, and the waiting happens inside the
 * unit (Type=exec), whose start job completes as soon as the launcher is exec'd.
 */
import { KEPT_FILE_PATH, WORKER_UNIT } from "./defaults";

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

export interface LauncherOptions {
  /** The scale set overprovisions: the waiter also waits for the kept file (--kept-file KEPT_FILE_PATH). */
  keptFile: boolean;
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

/** cloudInit mode: start the unit and return at once, so cloud-final is never held. */
export function renderPerBootScript(): string {
  return `#!/bin/sh
# hpc-workers (cloudInit delivery): runs on every boot; starts ${WORKER_UNIT} without waiting for it.
exec systemctl start --no-block ${WORKER_UNIT}
`;
}

/**
 * customScript mode: the extension's commandToExecute. It queues a transient unit ordered
 * after cloud-final and returns at once, so the extension succeeds and the VM can reach
 * `Succeeded`. After= is only an order: when cloud-final failed, or is not in the boot's
 * transaction at all, the unit starts anyway, and the launcher waits for Node.js on its own.
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
