/**
 * Scenario 3: customScript mode. The guest has no Azure VM agent, so the test plays the Custom
 * Script Extension: once cloud-init is done it runs the extension's exact commandToExecute as
 * root through `/bin/sh -c` (the qemu guest agent's guest-exec), while the VM is still Creating,
 * as Azure does before it can report Succeeded. After a reboot the extension does not run again,
 * so the worker does not start: the platform's documented behaviour.
 */
import * as assert from "assert";
import { DeliveryMode } from "../../components";
import { extensionCommand } from "../lib/kept";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, timing } from "../lib/scenario";
import { assertWorkerReport, WORKER_COMMAND } from "../lib/worker";

/** The extension must return at once; anything that waits deadlocks Succeeded. Generous for TCG. */
const EXTENSION_RETURN_MAX_MS = 10_000;
/** After the reboot, how long to watch for a worker that should never come. */
const REBOOT_OBSERVE_MS = 20_000;
const READS_BEFORE_FLIP = 3;

describe("customScript mode: the extension's command returns at once, the worker starts on Succeeded, not after a reboot", function () {
  this.bail(true);
  const delivery = DeliveryMode.CustomScript;
  const s = new Scenario(
    delivery,
    { delivery, workerCommand: WORKER_COMMAND, overprovision: false },
    {
      vm: "Creating",
      scaleSet: "Updating",
    },
  );
  // Whatever the component puts in the extension's settings, verbatim.
  const commandToExecute = extensionCommand(s);

  before(() => s.start());
  after(() => s.dispose());
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(s.diagnostics());
  });

  it("does not block the boot, and nothing polls before the extension runs", async () => {
    const boot = await s.boot();
    timing(delivery, "boot 1 to cloud-init done (VM Creating)", boot.cloudInitDone.at - s.guest.bootStartedAt);
    assert.deepStrictEqual(s.reads("vm", 0), [], "only the extension starts the waiter in this mode");
    await s.assertCloudInitClean();
  });

  it("runs commandToExecute as root and it returns within seconds while the VM is Creating", async () => {
    const r = await s.rootShell(commandToExecute, 60_000);
    timing(delivery, "commandToExecute returned", r.ms);
    assert.strictEqual(r.exitcode, 0, `commandToExecute failed (${r.exitcode}): ${r.stderr}`);
    assert.ok(r.ms <= EXTENSION_RETURN_MAX_MS, `commandToExecute took ${r.ms} ms (limit ${EXTENSION_RETURN_MAX_MS})`);
    assert.strictEqual(s.fake.state.vm, "Creating");
  });

  it("polls while Creating, then starts the worker within seconds of Succeeded, byte for byte", async () => {
    await s.waitForReads("vm", READS_BEFORE_FLIP, s.guest.bootStartedAt, FIRST_POLLS_TIMEOUT_MS);
    s.assertWorkerNotStarted(0, "while the VM was Creating");
    const { line, afterFlipMs } = await s.flipAndWaitForWorker();
    timing(delivery, "Succeeded to worker started", afterFlipMs);
    assertWorkerReport(line.text);
  });

  it("does not start the worker again after a reboot (the extension runs once per model change)", async () => {
    await s.guest.powerdown();
    const boot = await s.boot();
    timing(delivery, "boot 2 to cloud-init done (VM Succeeded)", boot.cloudInitDone.at - s.guest.bootStartedAt);
    await new Promise((r) => setTimeout(r, REBOOT_OBSERVE_MS));
    s.assertWorkerNotStarted(0, "after a reboot, with no extension run");
    assert.deepStrictEqual(s.reads("vm", s.guest.bootStartedAt), [], "no waiter ran after the reboot");
    const unit = await s.unitProperties();
    assert.notStrictEqual(unit.ActiveState, "active", `hpc-worker.service is ${unit.ActiveState}/${unit.SubState}`);
  });
});
