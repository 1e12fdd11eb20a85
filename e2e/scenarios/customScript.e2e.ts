/**
 * Scenario 3: customScript mode, with the timing Azure allows: the extension may run before
 * cloud-final has finished, on a VM whose Node.js is not installed yet. The guest has no Azure VM
 * agent, so the test plays the Custom Script Extension: it runs the extension's exact
 * commandToExecute as root through `/bin/sh -c` (the qemu guest agent's guest-exec) while the
 * image's hold script (kernel command line hpc-e2e.hold-cloud-final) keeps cloud-final running
 * and node is missing, and while the VM is Creating. Then cloud-final finishes, node is installed,
 * and the worker starts after Succeeded. After a reboot the extension does not run again, so the
 * worker does not start: the platform's documented behaviour.
 */
import * as assert from "assert";
import { DeliveryMode } from "../../components";
import { extensionCommand } from "../lib/kept";
import { assertWorkerStartedOnceAfter, INSTALLER_STARTED, waitForNodeInstalled } from "../lib/nodeInstall";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, timing } from "../lib/scenario";
import { CLOUD_INIT_DONE } from "../lib/suite";
import { assertWorkerReport, WORKER_COMMAND, WORKER_STARTED } from "../lib/worker";

/** The extension must return at once; anything that waits deadlocks Succeeded. Generous for TCG. */
const EXTENSION_RETURN_MAX_MS = 10_000;
/** After the reboot, how long to watch for a worker that should never come. */
const REBOOT_OBSERVE_MS = 20_000;
const READS_BEFORE_FLIP = 3;
/** e2e/image/rootfs/var/lib/cloud/scripts/per-instance/00-e2e-hold-cloud-final. */
const HOLD_CLOUD_FINAL = "hpc-e2e.hold-cloud-final";
const CLOUD_FINAL_HELD = /E2E-CLOUD-FINAL-HELD until (\S+) exists/;
const CLOUD_FINAL_RELEASED = /E2E-CLOUD-FINAL-RELEASED/;

describe("customScript mode: the extension runs while cloud-final still runs and node is missing; the worker starts on Succeeded, not after a reboot", function () {
  this.bail(true);
  const delivery = DeliveryMode.CustomScript;
  const s = new Scenario(
    delivery,
    { delivery, workerCommand: WORKER_COMMAND, overprovision: false },
    { vm: "Creating", scaleSet: "Updating" },
    { kernelArgs: [HOLD_CLOUD_FINAL] },
  );
  // Whatever the component puts in the extension's settings, verbatim.
  const commandToExecute = extensionCommand(s);
  let commandAt = 0;

  before(() => s.start());
  after(() => s.dispose());
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(s.diagnostics());
  });

  it("boots while Creating; cloud-final is still running, node is not installed, and nothing polls", async () => {
    await s.guest.boot();
    const held = await s.guest.serial.waitFor(CLOUD_FINAL_HELD, "cloud-final was not held", s.bootTimeoutMs, {
      aborted: () => s.guest.exited(),
    });
    timing(delivery, "boot 1 to cloud-final held (VM Creating)", held.at - s.guest.bootStartedAt);
    const state = await s.rootShell("systemctl is-active cloud-final.service; command -v node", 30_000);
    assert.strictEqual(state.stdout, "activating\n", "cloud-final is running and node is not installed");
    assert.deepStrictEqual(s.reads("vm", 0), [], "only the extension starts the waiter in this mode");
  });

  it("runs commandToExecute as root, and it returns within seconds while cloud-final runs and the VM is Creating", async () => {
    commandAt = Date.now();
    const r = await s.rootShell(commandToExecute, 60_000);
    timing(delivery, "commandToExecute returned", r.ms);
    assert.strictEqual(r.exitcode, 0, `commandToExecute failed (${r.exitcode}): ${r.stderr}`);
    assert.ok(r.ms <= EXTENSION_RETURN_MAX_MS, `commandToExecute took ${r.ms} ms (limit ${EXTENSION_RETURN_MAX_MS})`);
    assert.strictEqual(s.fake.state.vm, "Creating");
    assert.strictEqual(s.guest.serial.find(CLOUD_INIT_DONE), undefined, "cloud-final finished already");
  });

  it("once cloud-final finishes, installs node, polls while Creating, and starts the worker after Succeeded", async () => {
    const release = CLOUD_FINAL_HELD.exec(s.guest.serial.find(CLOUD_FINAL_HELD)!.text)![1];
    await s.rootShell(`touch ${release}`, 30_000);
    await s.guest.serial.waitFor(CLOUD_FINAL_RELEASED, "cloud-final was not released", 30_000);
    await s.guest.serial.waitFor(CLOUD_INIT_DONE, "cloud-init did not finish", s.bootTimeoutMs, {
      failOn: WORKER_STARTED,
    });
    await s.assertCloudInitClean();
    const installed = await waitForNodeInstalled(s);
    assert.ok(s.guest.serial.find(INSTALLER_STARTED)!.at >= commandAt, "the install began before the extension ran");
    const reads = await s.waitForReads("vm", READS_BEFORE_FLIP, s.guest.bootStartedAt, FIRST_POLLS_TIMEOUT_MS);
    assert.ok(reads[0].at >= installed.at, "the waiter polled before node was installed");
    s.assertWorkerNotStarted(0, "while the VM was Creating");
    timing(delivery, "commandToExecute to node installed", installed.at - commandAt);
    const { line, afterFlipMs } = await s.flipAndWaitForWorker();
    timing(delivery, "Succeeded to worker started", afterFlipMs);
    assertWorkerReport(line.text);
    assertWorkerStartedOnceAfter(s, installed);
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
