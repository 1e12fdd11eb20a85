/**
 * One scenario's world: a FakeAzure on the host, and a guest booted with the exact custom data
 * the component ships for the given options, talking to the fake at 169.254.169.254.
 * Every timing assertion compares host times: the console line's arrival, and the fake's own
 * record of state changes and calls.
 */
import * as assert from "assert";
import { CustomDataOptions, encodeCustomData, renderCustomData } from "../../components";
import { FakeAzure, FakeCall } from "../../testkit/fake-azure";
import { AptRepoServer } from "./aptRepo";
import { Guest, IMDS_ADDRESS } from "./guest";
import { killAllTracked } from "./processes";
import { SerialLine } from "./serial";
import { bootTimeoutMs, CLOUD_INIT_DONE, guestEnvironment, MULTI_USER_REACHED, seconds, tail } from "./suite";
import { WORKER_STARTED } from "./worker";

const IMDS_URL = `http://${IMDS_ADDRESS}`;

/**
 * Waiter reads are ≤ 6.5 s apart in its steady phase (agent/src/core/pollPolicy.ts); the
 * rest covers the launcher, `sh` and the console under TCG.
 */
export const WORKER_START_MAX_MS = 15_000;
/**
 * The waiter starts when cloud-init runs its trigger, on a first boot once hpc-node-install has
 * installed node from the test's repository (measured: about 20-35 s under TCG).
 */
export const FIRST_POLLS_TIMEOUT_MS = 180_000;

/** The component's options as a scenario sets them; the ARM endpoint is always the fake's. */
/** Where cloud-init records each stage's outcome (what `cloud-init status` reads). */
const CLOUD_INIT_RUN = "/run/cloud-init";
/**
 * cloud-init's Python under TCG, beside a first-boot apt install, on a host other jobs load too:
 * measured up to 60 s and more. Generous, as a clean run never waits for it.
 */
const GUEST_CLOUD_INIT_COMMAND_TIMEOUT_MS = 240_000;

export type ScenarioOptions = Omit<CustomDataOptions, "imdsUrl" | "armUrl" | "agentBundle">;

export interface ScenarioGuestOptions {
  /** Kernel command line flags that enable the image's baked fault injectors (e2e/image/rootfs). */
  kernelArgs?: string[];
}

export interface BootResult {
  cloudInitDone: SerialLine;
  multiUser: SerialLine;
}

export class Scenario {
  readonly fake: FakeAzure;
  readonly options: CustomDataOptions;
  guest!: Guest;
  /** The guest's only package mirror, serving nodejs and what the image lacks for it. */
  repo!: AptRepoServer;
  bootTimeoutMs = 0;
  private fakeLog: string[] = [];
  private startedAt = 0;

  constructor(
    readonly name: string,
    options: ScenarioOptions,
    initial: { vm: string; scaleSet: string },
    private readonly guestOptions: ScenarioGuestOptions = {},
  ) {
    this.options = {
      ...options,
      // The fake answers at the real IMDS address, the waiter's default; ARM is the fake too, on
      // the same port. Everything else, installNodejs included, is the scenario's or the default.
      armUrl: IMDS_URL,
    };
    this.fake = new FakeAzure({ log: (l) => this.fakeLog.push(l) });
    this.fake.setVmState(initial.vm);
    this.fake.setScaleSetState(initial.scaleSet);
  }

  /** The custom data bytes exactly as Azure hands them to the VM (decoded from osProfile.customData). */
  customDataBytes(): Buffer {
    return Buffer.from(encodeCustomData(renderCustomData(this.options)).base64, "base64");
  }

  /** `alter` exists only for the harness self-test's negative control; scenarios ship the text unchanged. */
  async start(alter?: (customData: string) => string): Promise<void> {
    this.startedAt = Date.now();
    const env = await guestEnvironment();
    this.bootTimeoutMs = bootTimeoutMs(env.accel);
    const base = await this.fake.listen(0, "127.0.0.1");
    const port = Number(new URL(base).port);
    this.repo = new AptRepoServer(env.aptRepo);
    this.guest = new Guest({
      name: this.name,
      image: env.image,
      accel: env.accel,
      userData: alter ? alter(renderCustomData(this.options)) : this.customDataBytes(),
      fakePort: port,
      repoPort: await this.repo.listen(),
      kernelArgs: this.guestOptions.kernelArgs,
      workDir: env.workDir,
    });
  }

  async dispose(): Promise<void> {
    if (this.startedAt > 0) timing(this.name, "scenario, start to end", Date.now() - this.startedAt);
    await this.guest?.kill();
    await killAllTracked();
    await this.fake.close();
    await this.repo?.close();
  }

  /** For a failed test: the end of the console and the fake's recent calls. */
  diagnostics(): string {
    const calls = this.fake.calls
      .slice(-15)
      .map((c) => `    ${new Date(c.at).toISOString()} ${c.method} ${c.route} ${c.status}`)
      .join("\n");
    const fakeLog = this.fakeLog
      .slice(-10)
      .map((l) => `    ${l}`)
      .join("\n");
    const repo = (this.repo?.requests ?? [])
      .slice(-8)
      .map((r) => `    ${new Date(r.at).toISOString()} GET ${r.path} ${r.status}`)
      .join("\n");
    return (
      `--- ${this.name}: console (last lines) ---\n${this.guest ? tail(this.guest.serial) : ""}\n` +
      `--- fake: last calls ---\n${calls}\n--- fake: log ---\n${fakeLog}\n` +
      `--- apt repository: last requests (${this.repo?.refused.length ?? 0} connections refused) ---\n${repo}\n` +
      `--- state now: ${JSON.stringify(this.fake.state)}; full console: ${this.guest?.serial.file}`
    );
  }

  /** Boots, and waits for cloud-init to finish and multi-user.target, failing if the worker starts. */
  async boot(timeoutMs = this.bootTimeoutMs): Promise<BootResult> {
    await this.guest.boot();
    const state = this.fake.state;
    const blocked =
      `cloud-init did not finish while the fake said VM=${state.vm}: something holds multi-user.target or ` +
      `cloud-final (a Type=oneshot unit that waits, an ExecStartPre that waits, a runcmd that waits)`;
    const cloudInitDone = await this.guest.serial.waitFor(CLOUD_INIT_DONE, blocked, timeoutMs, {
      failOn: WORKER_STARTED,
      aborted: () => this.guest.exited(),
    });
    const multiUser = this.guest.serial.find(MULTI_USER_REACHED);
    assert.ok(multiUser, `the console never said multi-user.target was reached (${this.guest.serial.file})`);
    return { cloudInitDone, multiUser };
  }

  /** Reads of the VM (or scale set) the fake answered since `since`. */
  reads(route: "vm" | "scaleSet", since: number): FakeCall[] {
    return this.fake.callsTo(route).filter((c) => c.at >= since);
  }

  async waitForReads(route: "vm" | "scaleSet", count: number, since: number, timeoutMs: number): Promise<FakeCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.reads(route, since);
      if (got.length >= count) return got;
      if (this.guest.exited()) throw new Error(`the guest stopped: ${this.guest.exited()}`);
      if (Date.now() > deadline) {
        throw new Error(
          `the waiter made ${got.length} ${route} read(s) in ${seconds(timeoutMs)}, expected ${count}: is it running? ` +
            `(see journalctl -u hpc-worker lines in ${this.guest.serial.file})`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  assertWorkerNotStarted(since: number, why: string): void {
    const line = this.guest.serial.find(WORKER_STARTED, since);
    assert.strictEqual(line, undefined, `the worker started ${why}: ${line?.text.slice(0, 120)}`);
  }

  /**
   * Flips the VM to Succeeded and waits for the worker's report. Asserts it came after the flip,
   * after the waiter's first read that saw Succeeded, and within WORKER_START_MAX_MS.
   */
  async flipAndWaitForWorker(opts: { maxMs?: number } = {}): Promise<{ line: SerialLine; afterFlipMs: number }> {
    const maxMs = opts.maxMs ?? WORKER_START_MAX_MS;
    this.assertWorkerNotStarted(0, "before the VM was Succeeded");
    this.fake.setVmState("Succeeded");
    const flippedAt = this.fake.changedAt("vm", "Succeeded")!;
    const line = await this.guest.serial.waitFor(
      WORKER_STARTED,
      `the worker did not start after the VM became Succeeded`,
      maxMs + 5_000,
      { aborted: () => this.guest.exited() },
    );
    const afterFlipMs = line.at - flippedAt;
    const sawSucceeded = this.reads("vm", flippedAt).find((c) => c.status === 200);
    assert.ok(sawSucceeded, "the worker started, but no VM read was answered after the flip");
    assert.ok(sawSucceeded.at <= line.at, "the worker started before the waiter read Succeeded");
    assert.ok(
      afterFlipMs <= maxMs,
      `the worker started ${seconds(afterFlipMs)} after the flip (limit ${seconds(maxMs)})`,
    );
    return { line, afterFlipMs };
  }

  /** Runs a shell command as root in the guest, the way an Azure agent would. */
  async rootShell(command: string, timeoutMs: number) {
    const qga = await this.guest.guestAgent(this.bootTimeoutMs);
    return qga.sh(command, timeoutMs);
  }

  /**
   * The guest's own cloud-init on the shipped user-data: every stage ran without an error, and
   * `cloud-init schema --system` accepts the user-data it actually received (skip it, `schema:
   * false`, where another scenario ships the same bytes: it costs a minute of TCG on a busy host). The stages are read
   * where `cloud-init status` reads them (status.json per stage, result.json once all are done),
   * without starting cloud-init's Python for it: under TCG that alone takes tens of seconds.
   */
  async assertCloudInitClean(opts: { schema?: boolean } = {}): Promise<void> {
    const status = await this.rootShell(
      `until [ -e ${CLOUD_INIT_RUN}/result.json ]; do sleep 1; done; cat ${CLOUD_INIT_RUN}/status.json`,
      GUEST_CLOUD_INIT_COMMAND_TIMEOUT_MS,
    );
    const stages = Object.entries(JSON.parse(status.stdout).v1 as Record<string, unknown>).filter(
      (entry): entry is [string, { errors: string[]; start: number | null; finished: number | null }] =>
        typeof entry[1] === "object" && entry[1] !== null && "errors" in entry[1],
    );
    assert.ok(stages.length >= 4, `cloud-init ran ${stages.length} stages: ${status.stdout}`);
    for (const [stage, result] of stages) {
      assert.deepStrictEqual(result.errors, [], `cloud-init stage ${stage} reported errors: ${status.stdout}`);
      if (result.start !== null) {
        assert.notStrictEqual(result.finished, null, `cloud-init stage ${stage} did not finish: ${status.stdout}`);
      }
    }
    if (opts.schema === false) return;
    const schema = await this.rootShell("cloud-init schema --system", GUEST_CLOUD_INIT_COMMAND_TIMEOUT_MS);
    assert.strictEqual(
      schema.exitcode,
      0,
      `cloud-init schema --system rejected the user-data:\n${schema.stdout}${schema.stderr}`,
    );
  }

  /** `systemctl show` of the worker unit, as a record. */
  async unitProperties(): Promise<Record<string, string>> {
    const r = await this.rootShell(
      "systemctl show hpc-worker.service -p ActiveState -p SubState -p NRestarts -p ExecMainStatus -p Result",
      30_000,
    );
    const props: Record<string, string> = {};
    for (const line of r.stdout.split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) props[line.slice(0, i)] = line.slice(i + 1);
    }
    return props;
  }
}

/** One line per timing, collected for the run's summary (stderr, so mocha's report stays readable). */
export function timing(scenario: string, what: string, ms: number): void {
  process.stderr.write(`      [timing] ${scenario}: ${what}: ${seconds(ms)}\n`);
}
