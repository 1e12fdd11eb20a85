/**
 * One guest VM: a qcow2 overlay on the cached image, a NoCloud seed holding the exact user-data
 * under test, a serial console file, QMP for power-off and the guest agent for running commands.
 * Each boot is a new qemu on the same overlay, as a reboot of an Azure VM keeps its OS disk.
 */
import { ChildProcess, execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Accel, qemuAccelArgs } from "./accel";
import { APT_REPO_ADDRESS } from "./aptRepo";
import { GuestImage } from "./image";
import { GuestAgent } from "./qga";
import { Qmp } from "./qmp";
import { killPid, spawnTracked } from "./processes";
import { SerialLog } from "./serial";

/** Node (the waiter) and cloud-init are comfortable in this; two guests fit any CI machine. */
const GUEST_MEMORY_MB = 1024;
/** The IMDS address; slirp forwards it to the fake on the host. */
export const IMDS_ADDRESS = "169.254.169.254";
/** slirp accepts guestfwd targets only inside its own network, so the network is the link-local one. */
const SLIRP_NET = "net=169.254.0.0/16,host=169.254.0.2,dns=169.254.0.3,dhcpstart=169.254.0.15";
const QMP_CONNECT_TIMEOUT_MS = 10_000;
/** `system_powerdown` takes about 3 s under TCG; a stuck guest is killed after this. */
const POWERDOWN_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

export interface GuestOptions {
  name: string;
  image: GuestImage;
  accel: Accel;
  /** The user-data, byte for byte as the scale set would ship it. */
  userData: string | Buffer;
  /** Port of the fake IMDS+ARM on 127.0.0.1. */
  fakePort: number;
  /** Port of the test's apt repository on 127.0.0.1 (reached at APT_REPO_ADDRESS), if any. */
  repoPort?: number;
  /** Extra kernel command line words: the flags that enable the image's baked fault injectors. */
  kernelArgs?: string[];
  workDir: string;
}

/** One slirp guestfwd: a guest connection to address:80 runs one socat to the host's port. */
function forward(address: string, port: number): string {
  // cmd: starts one socat per guest connection; a tcp: target would carry one connection in all.
  return `guestfwd=tcp:${address}:80-cmd:socat - TCP:127.0.0.1:${port}`;
}

export class Guest {
  readonly dir: string;
  readonly serial: SerialLog;
  private readonly overlay: string;
  private readonly seed: string;
  private qemu?: ChildProcess;
  private qemuExit?: string;
  private qmp?: Qmp;
  private agent?: GuestAgent;
  boots = 0;
  /** Host time the current boot's qemu was started. */
  bootStartedAt = 0;

  constructor(private readonly opts: GuestOptions) {
    this.dir = path.join(opts.workDir, opts.name);
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(this.dir, { recursive: true });
    this.serial = new SerialLog(path.join(this.dir, "serial.log"));
    this.overlay = path.join(this.dir, "disk.qcow2");
    this.seed = path.join(this.dir, "seed.iso");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", opts.image.rootfs, this.overlay]);
    const userData = path.join(this.dir, "user-data");
    const metaData = path.join(this.dir, "meta-data");
    fs.writeFileSync(userData, opts.userData);
    // One instance id for the guest's life: a reboot is the same instance to cloud-init, as on Azure.
    fs.writeFileSync(metaData, `instance-id: e2e-${opts.name}\nlocal-hostname: e2e-${opts.name}\n`);
    execFileSync("cloud-localds", [this.seed, userData, metaData]);
  }

  private socket(name: string): string {
    return path.join(this.dir, `${name}-${this.boots}.sock`);
  }

  /** Why the guest is not running, or undefined while it runs. */
  exited(): string | undefined {
    return this.qemuExit;
  }

  async boot(): Promise<void> {
    if (this.qemu) throw new Error(`guest ${this.opts.name} is already running`);
    this.boots += 1;
    this.qemuExit = undefined;
    this.serial.start();
    const qmpSock = this.socket("qmp");
    const qgaSock = this.socket("qga");
    const args = [
      ...qemuAccelArgs(this.opts.accel),
      "-smp",
      "1",
      "-m",
      String(GUEST_MEMORY_MB),
      "-nodefaults",
      "-display",
      "none",
      "-no-reboot",
      "-kernel",
      this.opts.image.kernel,
      "-initrd",
      this.opts.image.initrd,
      "-append",
      ["console=ttyS0 root=/dev/vda rw", ...(this.opts.kernelArgs ?? [])].join(" "),
      "-drive",
      // cache=unsafe: the overlay is thrown away after the run, so the guest's flushes (dpkg
      // syncs every file it unpacks) need not reach the host's disk.
      `file=${this.overlay},if=virtio,format=qcow2,cache=unsafe`,
      "-drive",
      `file=${this.seed},if=virtio,format=raw,media=cdrom,readonly=on`,
      // append=on: the next boot adds to this log instead of truncating it.
      "-chardev",
      `file,id=ser0,path=${this.serial.file},append=on`,
      "-serial",
      "chardev:ser0",
      "-netdev",
      [
        `user,id=net0,${SLIRP_NET},restrict=on`,
        forward(IMDS_ADDRESS, this.opts.fakePort),
        ...(this.opts.repoPort !== undefined ? [forward(APT_REPO_ADDRESS, this.opts.repoPort)] : []),
      ].join(","),
      "-device",
      "virtio-net-pci,netdev=net0",
      "-qmp",
      `unix:${qmpSock},server=on,wait=off`,
      "-chardev",
      `socket,id=qga0,path=${qgaSock},server=on,wait=off`,
      "-device",
      "virtio-serial",
      "-device",
      "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
    ];
    const log = fs.openSync(path.join(this.dir, "qemu.log"), "a");
    this.qemu = spawnTracked("qemu-system-x86_64", args, { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    this.bootStartedAt = Date.now();
    this.qemu.once("exit", (code, signal) => {
      this.qemuExit = `qemu exited (${signal ?? `code ${code}`}); see ${path.join(this.dir, "qemu.log")}`;
      this.qemu = undefined;
    });
    const deadline = Date.now() + QMP_CONNECT_TIMEOUT_MS;
    for (;;) {
      try {
        this.qmp = await Qmp.connect(qmpSock);
        break;
      } catch (e) {
        if (this.qemuExit) throw new Error(`guest ${this.opts.name}: ${this.qemuExit}`);
        if (Date.now() > deadline) throw new Error(`guest ${this.opts.name}: QMP did not come up: ${e}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
  }

  /** The guest agent of the current boot, connected on first use. */
  async guestAgent(timeoutMs: number): Promise<GuestAgent> {
    if (!this.agent) this.agent = await GuestAgent.connect(this.socket("qga"), timeoutMs);
    return this.agent;
  }

  /** ACPI power button, then wait for the guest to halt; a guest that does not is killed. */
  async powerdown(): Promise<number> {
    const started = Date.now();
    if (!this.qemu) return 0;
    await this.qmp!.execute("system_powerdown");
    while (this.qemu && Date.now() - started < POWERDOWN_TIMEOUT_MS) {
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (this.qemu) {
      await this.kill();
      throw new Error(`guest ${this.opts.name} did not power off within ${POWERDOWN_TIMEOUT_MS / 1000} s`);
    }
    this.disconnect();
    this.serial.poll();
    return Date.now() - started;
  }

  private disconnect(): void {
    this.qmp?.close();
    this.agent?.close();
    this.qmp = undefined;
    this.agent = undefined;
  }

  /** Kills qemu (and any socat it started) by PID. Safe to call twice. */
  async kill(): Promise<void> {
    this.disconnect();
    this.serial.stop();
    const q = this.qemu;
    if (q?.pid !== undefined) await killPid(q.pid);
    this.qemu = undefined;
  }
}
