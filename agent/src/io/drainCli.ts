/** `waiter.js drain-watcher [flags]`: it runs for good, or exits 2 (usage) or 6 (refused by IMDS). */
import { DRAIN_USAGE, parseDrainArgs } from "../core/drainArgs";
import { runDrainWatcher } from "../core/drainWatcher";
import { runCli } from "./cli";
import { systemdWorker } from "./systemd";

export function drainMain(argv: string[]): void {
  runCli("drain-watcher", parseDrainArgs(argv), DRAIN_USAGE, (env, options) =>
    runDrainWatcher({ ...env, worker: systemdWorker(options.systemctl, options.unit, env.log) }, options),
  );
}
