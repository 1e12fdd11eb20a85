/**
 * The worker as the drain watcher reaches it: its systemd unit, through systemctl. `stop` queues a
 * stop job, so systemd sends the unit's KillSignal (SIGTERM) to every process of the worker and no
 * Restart= brings it back; `kill` sends SIGKILL to what is left, which ends that stop job.
 */
import { execFile } from "child_process";
import type { WorkerControl } from "../core/types";

/** A systemctl call that takes longer than this is stuck (D-Bus gone): an assumption. */
const SYSTEMCTL_TIMEOUT_MS = 10000;

/** `systemctl is-active` states in which the unit has processes (or is about to). */
const RUNNING_STATES = ["active", "activating", "deactivating", "reloading"];

export function systemdWorker(systemctl: string, unit: string, log: (line: string) => void): WorkerControl {
  const run = (args: string[]) =>
    new Promise<{ ok: boolean; out: string }>((resolve) =>
      execFile(systemctl, args, { timeout: SYSTEMCTL_TIMEOUT_MS }, (err, stdout, stderr) => {
        const out = `${stdout}`.trim();
        // is-active exits non-zero for any state but active; only a failure to run at all is news.
        if (err && typeof (err as { code?: unknown }).code !== "number") log(`${systemctl} ${args[0]}: ${err.message}`);
        resolve({ ok: !err, out: out || `${stderr}`.trim() });
      }),
    );
  const must = async (...args: string[]) => {
    const r = await run([...args, unit]);
    if (!r.ok) log(`systemctl ${args.join(" ")} ${unit} failed: ${r.out}`);
  };
  return {
    stop: () => must("stop", "--no-block"),
    kill: () => must("kill", "--signal=SIGKILL"),
    start: () => must("start", "--no-block"),
    running: async () => RUNNING_STATES.indexOf((await run(["is-active", unit])).out) >= 0,
  };
}
