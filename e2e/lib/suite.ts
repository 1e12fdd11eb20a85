/** What every scenario shares: the image and accelerator, console markers, and per-accel timeouts. */
import * as fs from "fs";
import * as path from "path";
import { Accel, ACCEL_ENV, detectAccel } from "./accel";
import { ensureAptRepo } from "./aptRepo";
import { ensureImage, GuestImage } from "./image";
import { WORK_DIR } from "./paths";
import { installSignalCleanup } from "./processes";
import { SerialLog } from "./serial";

/** cloud-final's closing line, printed once per boot when every cloud-init stage is done. */
export const CLOUD_INIT_DONE = /Cloud-init v\. \S+ finished at/;
/** systemd's status line (and its journal copy) when multi-user.target is reached. */
export const MULTI_USER_REACHED = /Reached target multi-user\.target/;

/**
 * Boot to cloud-init done, measured under TCG: 30 s for a lone guest, 35–55 s for two guests on a
 * busy 2-core machine, and up to 290 s when other jobs load that machine too (load average 12–15).
 * The margin covers such a host; a blocked boot fails only after it.
 */
export function bootTimeoutMs(accel: Accel): number {
  return accel === "kvm" ? 120_000 : 600_000;
}

const log = (line: string) => process.stderr.write(line + "\n");

export async function guestEnvironment(): Promise<{
  image: GuestImage;
  accel: Accel;
  workDir: string;
  /** The indexed apt repository the guests install nodejs from. */
  aptRepo: string;
}> {
  installSignalCleanup();
  const image = await ensureImage(log);
  const accel = (process.env[ACCEL_ENV] as Accel | undefined) ?? (await detectAccel(image, log));
  // One folder per test process, so parallel files never share a socket or a log.
  const workDir = path.join(WORK_DIR, `run-${process.pid}`);
  fs.mkdirSync(workDir, { recursive: true });
  return { image, accel, workDir, aptRepo: ensureAptRepo(image) };
}

/** The last lines of a console log, for a failure message. */
export function tail(serial: SerialLog, lines = 60): string {
  return serial
    .all()
    .slice(-lines)
    .map((l) => "    | " + l.text)
    .join("\n");
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
