/**
 * Scenarios 1 and 2 (and 5 in each): a mode that starts the worker on every boot.
 * First boot while Creating, on the image without Node.js: the boot is not blocked,
 * hpc-node-install installs nodejs from the test's repository in one attempt, then the waiter
 * polls and the worker waits; the flip to Succeeded starts it within seconds, once. Reboot while
 * Updating: node is there, the worker waits again and starts only after the next flip. Each start
 * reports the command and argv it received.
 */
import * as assert from "assert";
import { DeliveryMode, HealthState } from "../../components";
import { HEALTH_RESTART_TITLE, healthThroughRestartAndStop, waitForHealth, assertHealth } from "./health";
import { assertKeptFileHoldsThisVm, playExtension } from "./kept";
import { REBOOT_TITLE, rebootWhileScaleSetUpdating } from "./keptBoot";
import { assertNodeFromRepository, attemptLines, INSTALLER_STARTED, waitForNodeInstalled } from "./nodeInstall";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, timing } from "./scenario";
import { SerialLine } from "./serial";
import { assertWorkerReport, WORKER_COMMAND } from "./worker";

/** Reads while still Creating/Updating that prove the waiter polls rather than having given up. */
const READS_BEFORE_FLIP = 3;

/**
 * `overprovision` undefined ships the component's default custom data: overprovisioning on, so the
 * test plays the platform on a kept VM and runs the scale set's one extension (the kept proof)
 * before the flip. The plain first boot of the defaults.
 */
export function everyBootScenario(delivery: DeliveryMode, trigger: string, overprovision?: boolean): void {
  const defaults = overprovision === undefined;
  const title = defaults
    ? `${delivery} mode (${trigger}, default custom data): boot while Creating, the kept proof, flip, reboot while the scale set is Updating`
    : `${delivery} mode (${trigger}): boot while Creating, flip, reboot while Updating, flip`;
  describe(title, function () {
    this.bail(true);
    const s = new Scenario(
      delivery,
      { delivery, workerCommand: WORKER_COMMAND, overprovision },
      {
        vm: "Creating",
        scaleSet: "Updating",
      },
    );
    let installed: SerialLine;

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

    it("installs node from the test's repository in one attempt (the image has none)", async () => {
      installed = await waitForNodeInstalled(s);
      const started = s.guest.serial.find(INSTALLER_STARTED);
      assert.ok(started, "the installer found no node in the image and said so");
      const attempts = attemptLines(s).map((l) => l.text.replace(/^.*hpc-node-install\[\d+\]: /, ""));
      assert.strictEqual(attempts.length, 1, `one attempt:\n${attempts.join("\n")}`);
      assert.match(attempts[0], /^attempt 1: installed nodejs: node v\d+\.\d+\.\d+, \d+ s after the first attempt$/);
      timing(delivery, "boot 1 to node installed", installed.at - s.guest.bootStartedAt);
      timing(delivery, "hpc-node-install: start to node installed", installed.at - started.at);
      process.stderr.write(`      [node] ${delivery}: installed ${await assertNodeFromRepository(s)}\n`);
    });

    it("polls ARM while Creating, only once node is installed, and does not start the worker", async () => {
      const reads = await s.waitForReads("vm", READS_BEFORE_FLIP, s.guest.bootStartedAt, FIRST_POLLS_TIMEOUT_MS);
      assert.ok(reads[0].at >= installed.at, "the waiter polled before node was installed");
      assert.ok(
        reads.every((c) => c.status === 200),
        "the fake answered every read",
      );
      assert.strictEqual(s.fake.state.vm, "Creating");
      s.assertWorkerNotStarted(s.guest.bootStartedAt, "while the VM was Creating");
      await assertHealth(s, HealthState.Initializing, "while the waiter waits for Succeeded");
      timing(
        delivery,
        `boot 1 to the waiter's read #${READS_BEFORE_FLIP}`,
        reads[READS_BEFORE_FLIP - 1].at - s.guest.bootStartedAt,
      );
    });

    it("starts the worker within seconds of Succeeded, once, with the command and argv byte for byte", async () => {
      if (defaults) {
        await playExtension(s);
        await assertKeptFileHoldsThisVm(s);
      }
      const { line, afterFlipMs } = await s.flipAndWaitForWorker();
      assert.strictEqual(s.guest.serial.filter(/E2E-WORKER-STARTED/).length, 1, "the worker started once");
      timing(delivery, "boot 1: Succeeded to worker started", afterFlipMs);
      assertWorkerReport(line.text);
      timing(
        delivery,
        "boot 1: worker started to Healthy",
        await waitForHealth(s, HealthState.Healthy, "once the worker runs"),
      );
    });

    if (defaults) {
      // A kept VM rebooted during a later, unrelated scale-set operation: the kept file survives.
      it(REBOOT_TITLE, () => rebootWhileScaleSetUpdating(s, delivery));
      it(HEALTH_RESTART_TITLE, () => healthThroughRestartAndStop(s, delivery));
      return;
    }

    it("after a reboot while Updating, waits again and starts the worker only after the next flip", async () => {
      const downMs = await s.guest.powerdown();
      timing(delivery, "power-off", downMs);
      s.fake.setVmState("Updating");
      const boot = await s.boot();
      timing(delivery, "boot 2 to cloud-init done (VM Updating)", boot.cloudInitDone.at - s.guest.bootStartedAt);
      await s.waitForReads("vm", READS_BEFORE_FLIP, s.guest.bootStartedAt, FIRST_POLLS_TIMEOUT_MS);
      s.assertWorkerNotStarted(s.guest.bootStartedAt, "after the reboot while the VM was Updating");
      await assertHealth(s, HealthState.Initializing, "after the reboot, while the waiter waits again");
      assert.strictEqual(s.guest.serial.find(INSTALLER_STARTED), undefined, "node was still installed");
      const { line, afterFlipMs } = await s.flipAndWaitForWorker();
      timing(delivery, "boot 2: Succeeded to worker started", afterFlipMs);
      assertWorkerReport(line.text);
      const starts = s.guest.serial.filter(/E2E-WORKER-STARTED/);
      assert.strictEqual(starts.length, 1, "the worker started once in the second boot");
      timing(
        delivery,
        "boot 2: worker started to Healthy",
        await waitForHealth(s, HealthState.Healthy, "after the reboot"),
      );
    });

    it(HEALTH_RESTART_TITLE, () => healthThroughRestartAndStop(s, delivery));
  });
}
