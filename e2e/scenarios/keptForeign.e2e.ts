/**
 * A guest whose disk carries another VM's kept file, as an image captured from a worker does. The
 * file is written through the guest agent as early in the first boot as the agent answers, before
 * the waiter starts. Its worker must never start while the VM reads Succeeded, and the waiter must
 * say why. When the platform then runs the extension (this VM is kept), the file is replaced with
 * this VM's vmId and the worker starts.
 */
import * as assert from "assert";
import { DeliveryMode, KEPT_FILE_PATH } from "../../components";
import { assertKeptFileHoldsThisVm, assertNoScaleSetRead, KEPT_FILE_ABSENT, playExtension } from "../lib/kept";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, timing, WORKER_START_MAX_MS } from "../lib/scenario";
import { CLOUD_INIT_DONE, seconds } from "../lib/suite";
import { assertWorkerReport, WORKER_COMMAND, WORKER_STARTED } from "../lib/worker";

/** Not the fake's vmId (DEFAULT_VM_ID): the id of the worker the image was captured from. */
const FOREIGN_VM_ID = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5";
/** The waiter's line about it (agent/src/core/keptFile.ts), said once per id. */
const FOREIGN_IGNORED = new RegExp(
  `kept file ${KEPT_FILE_PATH} holds vmId "${FOREIGN_VM_ID}", not this VM's [0-9a-f-]+: ignored`,
);
/** How long the VM reads Succeeded with the foreign file: three or more reads at the kept-file wait's pace. */
const OBSERVE_MS = 30_000;
const MIN_READS_OBSERVED = 3;

describe("a guest whose disk carries another VM's kept file: Succeeded alone never starts the worker", function () {
  this.bail(true);
  const name = "kept-foreign";
  const s = new Scenario(
    name,
    { delivery: DeliveryMode.Systemd, workerCommand: WORKER_COMMAND, overprovision: true },
    { vm: "Creating", scaleSet: "Updating" },
  );

  before(() => s.start());
  after(() => s.dispose());
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(s.diagnostics());
  });

  it("boots with another VM's kept file on its disk, written before the waiter starts", async () => {
    // Not s.boot(), which returns only once cloud-init is done: the file goes in as soon as qemu runs.
    await s.guest.boot();
    const wrote = await s.rootShell(
      `mkdir -p ${KEPT_FILE_PATH.replace(/\/[^/]+$/, "")} && printf '%s\\n' ${FOREIGN_VM_ID} > ${KEPT_FILE_PATH} && chmod 0644 ${KEPT_FILE_PATH}`,
      s.bootTimeoutMs,
    );
    assert.strictEqual(wrote.exitcode, 0, `writing the foreign kept file failed: ${wrote.stderr}`);
    timing(name, "boot to foreign kept file written", Date.now() - s.guest.bootStartedAt);
    const done = await s.guest.serial.waitFor(CLOUD_INIT_DONE, "cloud-init did not finish", s.bootTimeoutMs, {
      failOn: WORKER_STARTED,
      aborted: () => s.guest.exited(),
    });
    timing(name, "boot to cloud-init done (VM Creating)", done.at - s.guest.bootStartedAt);
  });

  it("the waiter says the file holds another VM's id and ignores it", async () => {
    await s.guest.serial.waitFor(
      FOREIGN_IGNORED,
      "the waiter never said it ignores the foreign kept file",
      FIRST_POLLS_TIMEOUT_MS,
      {
        failOn: WORKER_STARTED,
        aborted: () => s.guest.exited(),
      },
    );
    assert.strictEqual(
      s.guest.serial.find(KEPT_FILE_ABSENT),
      undefined,
      "the waiter looked before the foreign file was written: the scenario did not test a file present from the start",
    );
  });

  it("never starts the worker while the VM reads Succeeded, and keeps reading only the VM", async () => {
    s.fake.setVmState("Succeeded");
    const flippedAt = s.fake.changedAt("vm", "Succeeded")!;
    await new Promise((r) => setTimeout(r, OBSERVE_MS));
    const succeededReads = s.reads("vm", flippedAt).filter((c) => c.status === 200);
    process.stderr.write(
      `      [count] ${name}: ${succeededReads.length} VM reads answered Succeeded in ${seconds(OBSERVE_MS)}\n`,
    );
    assert.ok(
      succeededReads.length >= MIN_READS_OBSERVED,
      `only ${succeededReads.length} read(s) saw Succeeded: is the waiter still running?`,
    );
    s.assertWorkerNotStarted(0, "with another VM's kept file");
    assert.strictEqual(s.guest.serial.filter(FOREIGN_IGNORED).length, 1, "the foreign id is reported once");
    const unit = await s.unitProperties();
    assert.strictEqual(unit.ActiveState, "active", `hpc-worker.service is ${unit.ActiveState}/${unit.SubState}`);
    assert.strictEqual(unit.NRestarts, "0");
    assertNoScaleSetRead(s);
  });

  it("when the extension runs (this VM is kept), it replaces the file and the worker starts within seconds", async () => {
    const r = await playExtension(s);
    const returnedAt = Date.now();
    await assertKeptFileHoldsThisVm(s);
    const line = await s.guest.serial.waitFor(
      WORKER_STARTED,
      "the worker did not start after the extension wrote this VM's vmId",
      WORKER_START_MAX_MS,
      { aborted: () => s.guest.exited() },
    );
    timing(name, "extension's commandToExecute returned", r.ms);
    timing(name, "extension returned to worker started (VM already Succeeded)", line.at - returnedAt);
    assertWorkerReport(line.text);
    assertNoScaleSetRead(s);
  });
});
