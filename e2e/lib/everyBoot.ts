/**
 * Scenarios 1 and 2 (and 5 in each): a mode that starts the worker on every boot.
 * First boot while Creating: the boot is not blocked, the waiter polls, the worker waits; the flip
 * to Succeeded starts it within seconds. Reboot while Updating: the worker waits again and starts
 * only after the next flip. Each start reports the command and argv it received.
 */
import * as assert from "assert";
import { DeliveryMode } from "../../components";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, timing } from "./scenario";
import { assertWorkerReport, WORKER_COMMAND } from "./worker";

/** Reads while still Creating/Updating that prove the waiter polls rather than having given up. */
const READS_BEFORE_FLIP = 3;

export function everyBootScenario(delivery: DeliveryMode, trigger: string): void {
  describe(`${delivery} mode (${trigger}): boot while Creating, flip, reboot while Updating, flip`, function () {
    this.bail(true);
    const s = new Scenario(
      delivery,
      { delivery, workerCommand: WORKER_COMMAND, overprovision: false },
      {
        vm: "Creating",
        scaleSet: "Updating",
      },
    );

    before(() => s.start());
    after(() => s.dispose());
    afterEach(function () {
      if (this.currentTest?.state === "failed") console.error(s.diagnostics());
    });

    it("does not block the boot: cloud-init finishes and multi-user.target is reached while the VM is Creating", async () => {
      const boot = await s.boot();
      assert.strictEqual(s.fake.state.vm, "Creating");
      timing(delivery, "boot 1 to cloud-init done (VM Creating)", boot.cloudInitDone.at - s.guest.bootStartedAt);
    });

    it("cloud-init in the guest accepted the shipped user-data without an error", async () => {
      await s.assertCloudInitClean();
    });

    it("polls ARM while Creating and does not start the worker", async () => {
      const reads = await s.waitForReads("vm", READS_BEFORE_FLIP, s.guest.bootStartedAt, FIRST_POLLS_TIMEOUT_MS);
      assert.ok(
        reads.every((c) => c.status === 200),
        "the fake answered every read",
      );
      assert.strictEqual(s.fake.state.vm, "Creating");
      s.assertWorkerNotStarted(s.guest.bootStartedAt, "while the VM was Creating");
      timing(
        delivery,
        `boot 1 to the waiter's read #${READS_BEFORE_FLIP}`,
        reads[READS_BEFORE_FLIP - 1].at - s.guest.bootStartedAt,
      );
    });

    it("starts the worker within seconds of Succeeded, with the command and argv byte for byte", async () => {
      const { line, afterFlipMs } = await s.flipAndWaitForWorker();
      timing(delivery, "boot 1: Succeeded to worker started", afterFlipMs);
      assertWorkerReport(line.text);
    });

    it("after a reboot while Updating, waits again and starts the worker only after the next flip", async () => {
      const downMs = await s.guest.powerdown();
      timing(delivery, "power-off", downMs);
      s.fake.setVmState("Updating");
      const boot = await s.boot();
      timing(delivery, "boot 2 to cloud-init done (VM Updating)", boot.cloudInitDone.at - s.guest.bootStartedAt);
      await s.waitForReads("vm", READS_BEFORE_FLIP, s.guest.bootStartedAt, FIRST_POLLS_TIMEOUT_MS);
      s.assertWorkerNotStarted(s.guest.bootStartedAt, "after the reboot while the VM was Updating");
      const { line, afterFlipMs } = await s.flipAndWaitForWorker();
      timing(delivery, "boot 2: Succeeded to worker started", afterFlipMs);
      assertWorkerReport(line.text);
      const starts = s.guest.serial.filter(/E2E-WORKER-STARTED/);
      assert.strictEqual(starts.length, 1, "the worker started once in the second boot");
    });
  });
}
