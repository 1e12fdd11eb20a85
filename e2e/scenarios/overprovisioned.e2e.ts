/**
 * Scenario 4: an overprovisioned extra. Azure creates more VMs than asked and deletes the extras
 * once enough succeed; an extra may even read Succeeded for a moment before the cull reaches it.
 * The platform never runs extensions on an extra (doNotRunExtensionsOnOverprovisionedVMs), so the
 * test runs none: the kept file never appears. Its worker must never start, its waiter must exit
 * with the gone code and say why, the unit must not restart-loop, and nothing reads the scale set.
 */
import * as assert from "assert";
import { DeliveryMode } from "../../components";
import { RESTART_SEC } from "../../components/units";
import { EXIT_CODES } from "../../agent/src/core/exitCodes";
import { assertNoScaleSetRead, KEPT_FILE_ABSENT, PROOF_WAIT_READ_GAP_MS, readKeptFile } from "../lib/kept";
import { HealthState } from "../../components";
import { assertHealth, waitForHealth } from "../lib/health";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, timing } from "../lib/scenario";
import { seconds } from "../lib/suite";
import { WORKER_COMMAND, WORKER_STARTED } from "../lib/worker";

/** The waiter's last line: "...; exit 3 (gone)". */
const GONE_LINE = new RegExp(`exit ${EXIT_CODES.gone} \\(gone\\)`);
/** Without the kept file, reads are ≤ 9.2 s apart (pollPolicy.ts PROOF_WAIT_MS): Deleting, then 404, within two gaps. */
const GONE_WITHIN_MS = 3 * PROOF_WAIT_READ_GAP_MS;
/** Two restart delays and then some: a restart loop would show in this window. */
const NO_RESTART_WINDOW_MS = 2 * RESTART_SEC * 1000 + 5_000;
/** How long the extra reads Succeeded before the cull reaches it. */
const SUCCEEDED_MOMENT_MS = 5_000;
const READS_BEFORE_CULL = 3;
/** The first reads come at the kept-file wait's pace, not the fast one. */
const READS_BEFORE_CULL_TIMEOUT_MS = FIRST_POLLS_TIMEOUT_MS + READS_BEFORE_CULL * PROOF_WAIT_READ_GAP_MS;

function overprovisionedScenario(name: string, title: string, cull: (s: Scenario) => Promise<void>, why: RegExp): void {
  describe(title, function () {
    this.bail(true);
    const s = new Scenario(
      name,
      {
        delivery: DeliveryMode.Systemd,
        workerCommand: WORKER_COMMAND,
        overprovision: true,
      },
      { vm: "Creating", scaleSet: "Updating" },
    );

    before(() => s.start());
    after(() => s.dispose());
    afterEach(function () {
      if (this.currentTest?.state === "failed") console.error(s.diagnostics());
    });

    it("boots without blocking and polls while Creating", async () => {
      const boot = await s.boot();
      timing(name, "boot to cloud-init done (VM Creating)", boot.cloudInitDone.at - s.guest.bootStartedAt);
      await s.waitForReads("vm", READS_BEFORE_CULL, s.guest.bootStartedAt, READS_BEFORE_CULL_TIMEOUT_MS);
      assert.ok(s.guest.serial.find(KEPT_FILE_ABSENT), "the waiter did not say the kept file is absent");
      await assertHealth(s, HealthState.Initializing, "on an extra whose waiter waits");
      await s.assertCloudInitClean();
    });

    it("exits with the gone code when culled, says why, and never starts the worker", async () => {
      const culledAt = Date.now();
      await cull(s);
      const gone = await s.guest.serial.waitFor(GONE_LINE, "the waiter did not report gone", GONE_WITHIN_MS, {
        failOn: WORKER_STARTED,
        aborted: () => s.guest.exited(),
      });
      timing(name, "cull started to waiter exited gone", gone.at - culledAt);
      assert.match(gone.text, why);
      s.assertWorkerNotStarted(0, "on an overprovisioned extra");
      // The waiter's final answer (gone): stopped for good.
      await waitForHealth(s, HealthState.Unhealthy, "after the extra's waiter exited gone", {
        never: HealthState.Healthy,
      });
    });

    it("does not restart-loop: no new reads, no restart, the unit stays down", async () => {
      const gone = s.guest.serial.find(GONE_LINE)!;
      // Reads already in flight when the waiter exited may land a moment later.
      const settled = gone.at + 1000;
      await new Promise((r) => setTimeout(r, NO_RESTART_WINDOW_MS));
      const after = s.reads("vm", settled);
      assert.deepStrictEqual(after, [], `the waiter read ARM again within ${seconds(NO_RESTART_WINDOW_MS)} of exiting`);
      assertNoScaleSetRead(s);
      assert.strictEqual(await readKeptFile(s), undefined, "an extra has a kept file, but no extension ran");
      assert.strictEqual(s.guest.serial.filter(/hpc-worker\.service: Scheduled restart job/).length, 0);
      const unit = await s.unitProperties();
      assert.strictEqual(unit.NRestarts, "0", `hpc-worker.service restarted ${unit.NRestarts} time(s)`);
      assert.ok(
        !["active", "activating"].includes(unit.ActiveState),
        `hpc-worker.service is ${unit.ActiveState}/${unit.SubState}`,
      );
      s.assertWorkerNotStarted(0, "on an overprovisioned extra");
    });
  });
}

// Creating → Deleting → 404 without a moment of Succeeded is the same path minus that moment; the
// built bundle's process test covers it (test/agent-process.spec.ts, "an extra (no file) exits 3
// within 10 s of Deleting"), which spares CI one guest.
overprovisionedScenario(
  "extra-brief-succeeded",
  "overprovisioned extra: reads Succeeded for a moment while the scale set is Updating, then Deleting → 404",
  async (s) => {
    s.fake.setVmState("Succeeded");
    // The waiter must read Succeeded, and still not start the worker: no extension wrote the kept file.
    const succeeded = await s.waitForReads("vm", 1, s.fake.changedAt("vm", "Succeeded")!, PROOF_WAIT_READ_GAP_MS);
    assert.strictEqual(succeeded[0].status, 200);
    await new Promise((r) => setTimeout(r, SUCCEEDED_MOMENT_MS));
    s.assertWorkerNotStarted(0, "on an extra that read Succeeded");
    await assertHealth(s, HealthState.Initializing, "on an extra that read Succeeded without the kept file");
    s.fake.setVmState("Deleting");
    await new Promise((r) => setTimeout(r, SUCCEEDED_MOMENT_MS));
    s.fake.setVmState("NotFound");
    // The scale-out is over once the extras are gone.
    s.fake.setScaleSetState("Succeeded");
  },
  /no longer exists|404|being deleted|Deleting/,
);
