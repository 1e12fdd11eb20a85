/** `waiter.js drain-watcher [flags]`: it runs for good, or exits 2 (usage) or 6 (refused by IMDS). */
import * as os from "os";
import { DRAIN_USAGE, parseDrainArgs } from "../core/drainArgs";
import { runDrainWatcher } from "../core/drainWatcher";
import { HEALTH_STATE_FILES } from "../core/healthState";
import { runCli } from "./cli";
import { stateFileWriter } from "./stateFile";
import { systemdWorker } from "./systemd";

export function drainMain(argv: string[]): void {
  runCli("drain-watcher", parseDrainArgs(argv), DRAIN_USAGE, (env, options) =>
    runDrainWatcher(
      {
        ...env,
        worker: systemdWorker(options.systemctl, options.unit, env.log),
        markDraining: stateFileWriter(options.stateDir, HEALTH_STATE_FILES.drain, env.log),
        uptimeSeconds: os.uptime,
      },
      options,
    ),
  );
}
