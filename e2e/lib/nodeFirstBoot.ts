/**
 * A first boot of the component's default custom data (systemd delivery, installNodejs and
 * overprovision at their defaults) on the image without Node.js, with a fault in the way of the
 * install: the boot is not held, hpc-node-install retries through the fault (one journal line per
 * attempt) and installs nodejs from the test's repository, the waiter polls only once node is
 * there, and the worker starts once, after Succeeded. (The plain first boot is systemd.e2e.ts.)
 */
import * as assert from "assert";
import { DeliveryMode } from "../../components";
import {
  assertNodeFromRepository,
  assertWorkerStartedOnceAfter,
  attemptLines,
  INSTALLER_STARTED,
  waitForNodeInstalled,
} from "./nodeInstall";
import { playExtension } from "./kept";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, ScenarioGuestOptions, timing } from "./scenario";
import { SerialLine } from "./serial";
import { WORKER_COMMAND } from "./worker";

/** Reads while still Creating that prove the waiter polls. */
const READS_BEFORE_FLIP = 3;

export interface NodeFirstBootFault extends ScenarioGuestOptions {
  /** Called just before the guest boots (e.g. to take the repository down). */
  beforeBoot?: (s: Scenario) => void;
  /** What the installer's journal must show for this fault, given the line that reported node installed. */
  assertAttempts: (s: Scenario, installed: SerialLine) => void;
}

export function nodeFirstBootScenario(name: string, title: string, fault: NodeFirstBootFault): void {
  describe(title, function () {
    this.bail(true);
    const s = new Scenario(
      name,
      { delivery: DeliveryMode.Systemd, workerCommand: WORKER_COMMAND },
      { vm: "Creating", scaleSet: "Updating" },
      { kernelArgs: fault.kernelArgs },
    );
    let installed: SerialLine;

    before(() => s.start());
    after(() => s.dispose());
    afterEach(function () {
      if (this.currentTest?.state === "failed") console.error(s.diagnostics());
    });

    it("boots while Creating without waiting for the install, and cloud-init reports no error", async () => {
      assert.strictEqual(s.options.installNodejs, undefined, "installNodejs is left at its default");
      fault.beforeBoot?.(s);
      const boot = await s.boot();
      timing(name, "boot to cloud-init done (VM Creating)", boot.cloudInitDone.at - s.guest.bootStartedAt);
      // The default custom data, byte for byte what systemd.e2e.ts ships and schema-checks: only
      // the errors matter here (cloud-init's packages module would have recorded one).
      await s.assertCloudInitClean({ schema: false });
    });

    it("installs node from the test's repository, one journal line per attempt", async () => {
      installed = await waitForNodeInstalled(s);
      const started = s.guest.serial.find(INSTALLER_STARTED);
      assert.ok(started, "the installer found no node in the image and said so");
      timing(name, "boot to node installed", installed.at - s.guest.bootStartedAt);
      timing(name, "hpc-node-install: start to node installed", installed.at - started.at);
      process.stderr.write(`      [node] ${name}: ${attemptLines(s).length} attempts\n`);
      fault.assertAttempts(s, installed);
      const version = await assertNodeFromRepository(s);
      process.stderr.write(`      [node] ${name}: installed ${version}\n`);
    });

    it("polls ARM only once node is installed, and the worker waits for Succeeded", async () => {
      const reads = await s.waitForReads("vm", READS_BEFORE_FLIP, s.guest.bootStartedAt, FIRST_POLLS_TIMEOUT_MS);
      assert.ok(reads[0].at >= installed.at, "the waiter polled before node was installed");
      s.assertWorkerNotStarted(0, "while the VM was Creating");
      timing(name, "node installed to the waiter's first read", reads[0].at - installed.at);
    });

    it("starts the worker once, after Succeeded, and the unit never restarted", async () => {
      // Overprovisioning is on by default: the platform runs the kept proof on a kept VM first.
      await playExtension(s);
      const { afterFlipMs } = await s.flipAndWaitForWorker();
      timing(name, "Succeeded to worker started", afterFlipMs);
      assertWorkerStartedOnceAfter(s, installed);
      const unit = await s.unitProperties();
      assert.strictEqual(unit.NRestarts, "0", `hpc-worker.service restarted ${unit.NRestarts} time(s)`);
      assert.strictEqual(unit.ActiveState, "active");
    });
  });
}
