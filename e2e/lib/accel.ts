/**
 * KVM when it really works, TCG otherwise. Some hosts expose a /dev/kvm that cannot boot a stock
 * kernel (`-cpu host` aborts on an MSR), so the only honest check is a tiny boot.
 */
import * as fs from "fs";
import * as path from "path";
import { GuestImage } from "./image";
import { WORK_DIR } from "./paths";
import { killPid, spawnTracked } from "./processes";

export type Accel = "kvm" | "tcg";
/** Force one with E2E_ACCEL=kvm|tcg (the runner also passes its probe's answer this way). */
export const ACCEL_ENV = "E2E_ACCEL";
/** Under KVM the kernel reaches its root-mount panic in about a second. */
const PROBE_TIMEOUT_MS = 20_000;
const PROBE_POLL_MS = 100;
/** Printed once the kernel has run far enough to look for its root filesystem. */
const PROBE_REACHED = /VFS: Unable to mount root fs|Kernel panic/;

export function qemuAccelArgs(accel: Accel): string[] {
  // TCG's `max` CPU has the instruction sets node's V8 expects; qemu64 lacks some.
  return accel === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg", "-cpu", "max"];
}

export async function detectAccel(image: GuestImage, log: (l: string) => void): Promise<Accel> {
  const forced = process.env[ACCEL_ENV];
  if (forced === "kvm" || forced === "tcg") return forced;
  if (forced) throw new Error(`${ACCEL_ENV} must be "kvm" or "tcg" (got "${forced}")`);
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    log("e2e: /dev/kvm is not usable; using TCG (slower, about 30 s to a booted guest)");
    return "tcg";
  }
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const serial = path.join(WORK_DIR, `kvm-probe-${process.pid}.log`);
  fs.rmSync(serial, { force: true });
  const child = spawnTracked(
    "qemu-system-x86_64",
    [
      ...qemuAccelArgs("kvm"),
      "-m",
      "256",
      "-nodefaults",
      "-display",
      "none",
      "-no-reboot",
      "-kernel",
      image.kernel,
      "-append",
      "console=ttyS0 panic=-1",
      "-serial",
      `file:${serial}`,
    ],
    { stdio: "ignore" },
  );
  let exited = false;
  child.once("exit", () => (exited = true));
  const deadline = Date.now() + PROBE_TIMEOUT_MS;
  let works = false;
  while (Date.now() < deadline) {
    const text = fs.existsSync(serial) ? fs.readFileSync(serial, "utf8") : "";
    if (PROBE_REACHED.test(text)) {
      works = true;
      break;
    }
    if (exited) break;
    await new Promise((r) => setTimeout(r, PROBE_POLL_MS));
  }
  await killPid(child.pid!);
  fs.rmSync(serial, { force: true });
  log(works ? "e2e: KVM works; using it" : "e2e: /dev/kvm cannot boot the guest kernel; using TCG");
  return works ? "kvm" : "tcg";
}
