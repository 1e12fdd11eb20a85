/**
 * The kept-file contract (--kept-file PATH) in virtual time: Succeeded starts the worker only
 * together with PATH holding this VM's vmId; the file is watched locally, so the exit follows
 * within a second; while it is missing, ARM is read only as often as seeing Deleting within
 * 10 s needs; the scale set is never read.
 */
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { KEPT_FILE_POLL_MS } from "../agent/src/core/keptFile";
import { faults } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate, sinceStart as rel } from "../testkit/fake-azure/simulate";
import type { Sim } from "../testkit/fake-azure/simulate";

const KEPT = "/var/lib/hpc-workers/kept";
const OTHER_VM_ID = "11111111-2222-4333-8444-555555555555";
const kept = { keptFile: KEPT };

/** Largest gap between two consecutive ARM reads of the VM (ms). */
function largestGap(sim: Sim): number {
  const vm = sim.fake.callsTo("vm");
  let gap = 0;
  for (let i = 1; i < vm.length; i++) gap = Math.max(gap, vm[i].at - vm[i - 1].at);
  return gap;
}

describe("agent core: the kept-file proof (virtual time)", () => {
  it("reads this VM's vmId from IMDS (format=text, the resourceId api-version), only with --kept-file", async () => {
    const sim = await simulate((f, files) => {
      f.setVmState("Succeeded");
      files.write(KEPT, f.vmId);
    }, kept);
    assert.deepEqual(sim.outcome, { kind: "succeeded" });
    const vmId = sim.fake.callsTo("imds").find((c) => c.path === "/metadata/instance/compute/vmId")!;
    assert.equal(vmId.query["format"], "text");
    assert.equal(vmId.query["api-version"], sim.fake.calls[0].query["api-version"]);
    const plain = await simulate((f) => f.setVmState("Succeeded"));
    assert.deepEqual(plain.outcome, { kind: "succeeded" });
    assert.equal(plain.fake.callsTo("imds").length, 2, "resourceId and azEnvironment only");
    assert.equal(plain.files.reads.length, 0, "without --kept-file no file is read: Succeeded is enough");
  });

  it("never starts the worker on Succeeded alone: without the file it waits to the deadline", async () => {
    const sim = await simulate((f) => f.schedule(5000, { vm: "Succeeded" }), { ...kept, timeoutSeconds: 600 });
    assert.equal(sim.outcome.kind, "timeout");
    assert.equal(sim.elapsed, 600000);
    assert.equal(sim.fake.callsTo("scaleSet").length, 0);
    assert.ok(sim.logs.some((l) => /VM provisioningState Succeeded .*no kept proof yet/.test(l)));
  });

  it("exits within 0.5 s of the file appearing when ARM has already said Succeeded, with no further ARM read", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 3000, max: 120000 }), fc.integer({ min: 1, max: 1e9 }), async (t, seed) => {
        const sim = await simulate(
          (f, files) => {
            f.setVmState("Succeeded");
            files.schedule(t, KEPT, `${f.vmId}\n`);
          },
          { ...kept, seed },
        );
        assert.deepEqual(sim.outcome, { kind: "succeeded" });
        assert.ok(sim.elapsed >= t && sim.elapsed - t <= KEPT_FILE_POLL_MS, `file at ${t} ms, exit ${sim.elapsed} ms`);
        const reads = sim.fake.callsTo("vm");
        assert.ok(rel(sim, reads[reads.length - 1]) < t, "the exit needed no ARM read after the file");
      }),
      { numRuns: 30 },
    );
  });

  it("when the file comes first, reads ARM at once, then fast: exits within 1.3 s of Succeeded", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300000 }),
        fc.integer({ min: 100, max: 20000 }),
        fc.integer({ min: 1, max: 1e9 }),
        async (fileAt, lead, seed) => {
          const sim = await simulate(
            (f, files) => {
              files.schedule(fileAt, KEPT, f.vmId);
              f.schedule(fileAt + lead, { vm: "Succeeded" });
            },
            { ...kept, seed },
          );
          assert.deepEqual(sim.outcome, { kind: "succeeded" });
          const latency = sim.elapsed - (fileAt + lead);
          assert.ok(
            latency >= 0 && latency <= 1300,
            `file at ${fileAt} ms, Succeeded ${lead} ms later, seen ${latency} ms late`,
          );
          const first = sim.fake.callsTo("vm").find((c) => rel(sim, c) >= fileAt)!;
          assert.ok(rel(sim, first) - fileAt <= KEPT_FILE_POLL_MS + 50, "a prompt read once the file is there");
        },
      ),
      { numRuns: 40 },
    );
  });

  it("accepts the vmId trimmed and in any case", async () => {
    const sim = await simulate((f, files) => {
      f.setVmState("Succeeded");
      files.write(KEPT, `  ${f.vmId.toUpperCase()}\r\n`);
    }, kept);
    assert.deepEqual(sim.outcome, { kind: "succeeded" });
  });

  it("never exits 0 on a file holding another vmId (an image captured from a worker), and says so once", async () => {
    const sim = await simulate(
      (f, files) => {
        f.setVmState("Succeeded");
        files.write(KEPT, `${OTHER_VM_ID}\n`);
        // Removed and written again (a second boot of the same image): still said once.
        files.schedule(100000, KEPT, undefined).schedule(200000, KEPT, OTHER_VM_ID);
      },
      { ...kept, timeoutSeconds: 900 },
    );
    assert.equal(sim.outcome.kind, "timeout");
    const said = sim.logs.filter((l) => l.indexOf(OTHER_VM_ID) >= 0);
    assert.equal(said.length, 1, said.join("\n"));
    assert.match(said[0], new RegExp(`holds vmId "${OTHER_VM_ID}", not this VM's ${sim.fake.vmId}: ignored`));
    assert.match(said[0], /image captured from a worker/);
    assert.ok(sim.files.reads.length > 1000, "the file is still watched: the right id may come");
  });

  it("starts once the extension replaces another VM's file with this VM's id", async () => {
    const sim = await simulate((f, files) => {
      f.setVmState("Succeeded");
      files.write(KEPT, OTHER_VM_ID);
      files.schedule(45000, KEPT, f.vmId);
    }, kept);
    assert.deepEqual(sim.outcome, { kind: "succeeded" });
    assert.ok(sim.elapsed - 45000 <= KEPT_FILE_POLL_MS);
  });

  it("an extra (no file; Creating → Deleting → 404) exits gone within 10 s of Deleting, for any jitter", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1000, max: 600000 }), fc.integer({ min: 1, max: 1e9 }), async (t, seed) => {
        const sim = await simulate(
          (f) =>
            f.timeline([
              { at: t, vm: "Deleting" },
              { at: t + 30000, vm: "NotFound" },
            ]),
          { ...kept, seed },
        );
        assert.equal(sim.outcome.kind, "gone");
        assert.ok(sim.elapsed - t <= 10000, `Deleting at ${t} ms, seen ${sim.elapsed - t} ms later`);
        assert.equal(sim.fake.callsTo("scaleSet").length, 0);
      }),
      { numRuns: 40 },
    );
  });

  it("an extra that reads Succeeded for a moment, then Deleting, never starts: exits gone", async () => {
    const sim = await simulate(
      (f) =>
        f.timeline([
          { at: 20000, vm: "Succeeded" },
          { at: 40000, vm: "Deleting" },
          { at: 45000, vm: "NotFound" },
        ]),
      kept,
    );
    assert.equal(sim.outcome.kind, "gone");
    assert.ok(sim.elapsed - 40000 <= 10000);
  });

  it("while the file is missing, reads ARM at most every 10 s and never faster than the per-VM refill, over an hour", async () => {
    for (const seed of [1, 2, 3]) {
      const sim = await simulate(() => undefined, { ...kept, seed, timeoutSeconds: 3600 });
      assert.equal(sim.outcome.kind, "timeout");
      const vm = sim.fake.callsTo("vm");
      assert.ok(largestGap(sim) <= 10000, `${largestGap(sim)} ms between reads`);
      for (let i = 1; i < vm.length; i++) assert.ok(vm[i].at - vm[i - 1].at >= 5000, `read ${i} came too soon`);
      assert.equal(sim.fake.budgetViolations, 0);
      assert.ok(vm.length <= 3600 / 8 + 1, `${vm.length} reads in an hour`);
    }
  });

  it("keeps watching the file while a Retry-After holds ARM reads back, and exits within 0.5 s of it", async () => {
    const sim = await simulate((f, files) => {
      f.setVmState("Succeeded");
      f.schedule(8000, { fault: { route: "vm", fault: faults.throttled(120) } });
      files.schedule(30000, KEPT, f.vmId);
    }, kept);
    assert.deepEqual(sim.outcome, { kind: "succeeded" });
    assert.ok(sim.elapsed >= 30000 && sim.elapsed - 30000 <= KEPT_FILE_POLL_MS, `${sim.elapsed} ms`);
    assert.ok(sim.fake.callsTo("vm").some((c) => c.status === 429));
  });

  it("a kept VM rebooted while its scale set is Updating exits 0 at its first Succeeded read, with no scale-set read", async () => {
    const sim = await simulate((f, files) => {
      f.setVmState("Succeeded");
      f.setScaleSetState("Updating");
      files.write(KEPT, f.vmId);
    }, kept);
    assert.deepEqual(sim.outcome, { kind: "succeeded" });
    const vm = sim.fake.callsTo("vm");
    assert.equal(vm.length, 1);
    assert.ok(sim.elapsed - rel(sim, vm[0]) <= 2000);
    assert.equal(sim.fake.callsTo("scaleSet").length, 0);
    assert.match(sim.logs[sim.logs.length - 1], /kept file .* holds this VM's vmId .*exit 0 \(succeeded\)/);
  });

  it("ends failed on Failed, and gone on a 404, with or without the file", async () => {
    for (const withFile of [false, true]) {
      for (const [state, kind] of [
        ["Failed", "failed"],
        ["NotFound", "gone"],
      ]) {
        const sim = await simulate((f, files) => {
          if (withFile) files.write(KEPT, f.vmId);
          f.schedule(3000, { vm: state });
        }, kept);
        assert.equal(sim.outcome.kind, kind, `${state}, file ${withFile}`);
      }
    }
  });
});
