/**
 * A kept VM of an overprovisioned scale set, in each delivery mode. First boot while Creating: the
 * waiter (systemd, cloudInit) reads ARM only to see Deleting, since the kept file is absent; the
 * platform runs the extension (the test plays it), which writes this VM's vmId; the flip to
 * Succeeded starts the worker. Reboot while the scale set is Updating (systemd, cloudInit): the
 * file is still on the disk, so the worker starts within 2 s of the first read that says
 * Succeeded. Nothing ever reads the scale set.
 */
import * as assert from "assert";
import { DeliveryMode, HealthState, KEPT_FILE_PATH } from "../../components";
import { waitForHealth } from "./health";
import {
  assertKeptFileHoldsThisVm,
  assertNoScaleSetRead,
  KEPT_FILE_ABSENT,
  playExtension,
  PROOF_WAIT_READ_GAP_MS,
  readKeptFile,
} from "./kept";
import { waitForNodeInstalled } from "./nodeInstall";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, timing, WORKER_START_MAX_MS } from "./scenario";
import { seconds } from "./suite";
import { assertWorkerReport, WORKER_COMMAND, WORKER_STARTED } from "./worker";

/** The bound: a kept VM rebooted during an unrelated scale-set operation starts within 2 s of Succeeded. */
const REBOOT_START_MAX_MS = 2_000;
/**
 * The launcher's last line before it execs the worker (components/delivery.ts): the moment the
 * worker starts. The worker's own report comes after its `od` pipelines, ≈ 1 s later under load.
 */
const LAUNCHER_STARTS_WORKER = /hpc-workers: this VM is Succeeded; starting the worker/;
/** Reads while Creating without the file, ≤ PROOF_WAIT_READ_GAP_MS apart: the waiter polls, slowly. */
const READS_WITHOUT_PROOF = 2;

export function keptScenario(delivery: DeliveryMode): void {
  const startsOnBoot = delivery !== DeliveryMode.CustomScript;
  describe(`${delivery} mode, overprovisioned scale set, a kept VM: the extension's kept file and Succeeded start the worker`, function () {
    this.bail(true);
    const name = `kept-${delivery}`;
    const s = new Scenario(
      name,
      { delivery, workerCommand: WORKER_COMMAND, overprovision: true },
      { vm: "Creating", scaleSet: "Updating" },
    );

    before(() => s.start());
    after(() => s.dispose());
    afterEach(function () {
      if (this.currentTest?.state === "failed") console.error(s.diagnostics());
    });

    it("boots without blocking while Creating, with no kept file yet", async () => {
      const boot = await s.boot();
      timing(name, "boot 1 to cloud-init done (VM Creating)", boot.cloudInitDone.at - s.guest.bootStartedAt);
      await s.assertCloudInitClean();
      assert.strictEqual(await readKeptFile(s), undefined, `${KEPT_FILE_PATH} exists before the extension ran`);
    });

    if (startsOnBoot) {
      it("reads ARM only often enough to see Deleting while the kept file is absent", async () => {
        const reads = await s.waitForReads(
          "vm",
          READS_WITHOUT_PROOF,
          s.guest.bootStartedAt,
          FIRST_POLLS_TIMEOUT_MS + READS_WITHOUT_PROOF * PROOF_WAIT_READ_GAP_MS,
        );
        assert.ok(s.guest.serial.find(KEPT_FILE_ABSENT), "the waiter did not say the kept file is absent");
        const gap = reads[1].at - reads[0].at;
        timing(name, "gap between reads without the kept file", gap);
        assert.ok(gap <= PROOF_WAIT_READ_GAP_MS, `reads ${seconds(gap)} apart: Deleting would be seen late`);
        s.assertWorkerNotStarted(0, "without the kept file");
      });
    } else {
      it("runs nothing before the extension does", () => {
        assert.deepStrictEqual(s.reads("vm", 0), [], "only the extension starts the waiter in this mode");
      });
    }

    it("runs the extension (as on a kept VM): it returns within seconds while Creating and writes this VM's vmId", async () => {
      const r = await playExtension(s);
      timing(name, "extension's commandToExecute returned", r.ms);
      assert.strictEqual(s.fake.state.vm, "Creating");
      await assertKeptFileHoldsThisVm(s);
      // Before Succeeded: in customScript mode the extension has just started the unit.
      await waitForHealth(s, HealthState.Initializing, "before Succeeded", { never: HealthState.Healthy });
    });

    if (!startsOnBoot) {
      // The extension starts the unit, and the unit installs Node.js first (components/nodeInstall.ts).
      it("installs node, then the waiter reads the VM while it is Creating", async () => {
        const installed = await waitForNodeInstalled(s);
        const reads = await s.waitForReads("vm", 1, installed.at, FIRST_POLLS_TIMEOUT_MS);
        timing(name, "node installed to the waiter's first read", reads[0].at - installed.at);
        s.assertWorkerNotStarted(0, "while the VM was Creating");
      });
    }

    it("starts the worker within seconds of Succeeded, byte for byte, without reading the scale set", async () => {
      const { line, afterFlipMs } = await s.flipAndWaitForWorker();
      timing(name, "boot 1: Succeeded to worker started", afterFlipMs);
      assertWorkerReport(line.text);
      assertNoScaleSetRead(s);
      timing(
        name,
        "boot 1: worker started to Healthy",
        await waitForHealth(s, HealthState.Healthy, "once the worker runs"),
      );
    });

    if (startsOnBoot) {
      it(REBOOT_TITLE, () => rebootWhileScaleSetUpdating(s, name));
    }
  });
}

/** The reboot step of a kept VM whose worker starts on every boot (systemd, cloudInit). */
export const REBOOT_TITLE =
  "after a reboot while the scale set is Updating, starts within 2 s of reading Succeeded, with no scale-set read";

/**
 * A kept VM rebooted during an unrelated scale-set operation: the VM reads Succeeded, the scale set
 * Updating, the kept file is on the disk. The worker starts within 2 s of the first VM read.
 */
export async function rebootWhileScaleSetUpdating(s: Scenario, name: string): Promise<void> {
  const downMs = await s.guest.powerdown();
  timing(name, "power-off", downMs);
  s.fake.setScaleSetState("Updating");
  // Not s.boot(): with the file on the disk and the VM Succeeded, the worker may well start
  // before cloud-init's final line, and that is right.
  await s.guest.boot();
  const exec = await s.guest.serial.waitFor(
    LAUNCHER_STARTS_WORKER,
    "the launcher did not start the worker after the reboot",
    // A whole boot: the waiter starts late in it (node alone took 14 s on a loaded host).
    s.bootTimeoutMs,
    { aborted: () => s.guest.exited() },
  );
  const firstRead = s.reads("vm", s.guest.bootStartedAt).find((c) => c.status === 200);
  assert.ok(firstRead, "the worker started without a VM read answered after the reboot");
  const afterRead = exec.at - firstRead.at;
  const line = await s.guest.serial.waitFor(WORKER_STARTED, "the worker did not report", WORKER_START_MAX_MS, {
    aborted: () => s.guest.exited(),
  });
  timing(name, "boot 2: first read (Succeeded) to the launcher's exec of the worker", afterRead);
  timing(name, "boot 2: first read (Succeeded) to the worker's own report", line.at - firstRead.at);
  timing(name, "boot 2: boot to worker started", exec.at - s.guest.bootStartedAt);
  assert.ok(afterRead >= 0, "the worker started before the waiter read Succeeded");
  assert.strictEqual(s.reads("vm", s.guest.bootStartedAt).length, 1, "the waiter exits at its first read");
  assert.ok(
    afterRead <= REBOOT_START_MAX_MS,
    `the worker started ${seconds(afterRead)} after the first read (limit ${seconds(REBOOT_START_MAX_MS)})`,
  );
  assertWorkerReport(line.text);
  assert.strictEqual(s.guest.serial.filter(WORKER_STARTED).length, 1, "the worker started once in boot 2");
  assert.strictEqual(s.guest.serial.find(KEPT_FILE_ABSENT), undefined, "the kept file did not survive the reboot");
  assert.strictEqual(s.fake.state.scaleSet, "Updating");
  assertNoScaleSetRead(s);
  timing(name, "boot 2: worker started to Healthy", await waitForHealth(s, HealthState.Healthy, "after the reboot"));
}
