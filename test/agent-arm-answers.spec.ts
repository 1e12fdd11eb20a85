/**
 * How the ARM poll (armPoll.ts) reads each answer and carries what it learnt to the next read,
 * in virtual time: unreadable 200s, final states in any case, a success resetting the fault
 * back-off and the one-refresh allowance for a 401, the fast phase kept for after the kept
 * file's wait, and a busy fleet's pacing kept when the file comes first.
 */
import { strict as assert } from "assert";
import { JITTER, nextPace, VM_STEADY_MS } from "../agent/src/core/pollPolicy";
import { classify } from "../agent/src/core/retryTable";
import { faults } from "../testkit/fake-azure/index";
import type { FakeFault } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate, sinceStart as rel } from "../testkit/fake-azure/simulate";

const KEPT = "/var/lib/hpc-workers/kept";
const ok200 = (body: string, headers: Record<string, string> = {}): FakeFault => ({ status: 200, headers, body });

describe("agent core: reading ARM's answers (virtual time)", () => {
  it("retries a 200 without a readable provisioningState (absent, empty, not a string, null body) as 'unreadable'", async () => {
    const bodies = [
      "null",
      "{}",
      '{"properties":null}',
      '{"properties":{}}',
      '{"properties":{"provisioningState":""}}',
    ];
    bodies.push('{"properties":{"provisioningState":5}}');
    for (const body of bodies) {
      const sim = await simulate((f) => {
        f.fail("vm", ok200(body));
        f.schedule(3000, { vm: "Succeeded" });
      });
      assert.equal(sim.outcome.kind, "succeeded", body);
      assert.ok(
        sim.logs.some(
          (l) => l.indexOf("VM provisioningState unreadable (200 without a readable provisioningState: ") >= 0,
        ),
        body,
      );
      assert.ok(sim.fake.callsTo("vm").length >= 2, body);
    }
  });

  it("backs off on a 429 without Retry-After by itself: 5 s, then 10 s (×0.8-1.2)", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.throttled(), 2);
      f.schedule(40000, { vm: "Succeeded" });
    });
    assert.equal(sim.outcome.kind, "succeeded");
    const vm = sim.fake.callsTo("vm");
    assert.deepEqual(
      vm.slice(0, 3).map((c) => c.status),
      [429, 429, 200],
    );
    assert.ok(
      vm[1].at - vm[0].at >= 4000 && vm[1].at - vm[0].at <= 6100,
      `${vm[1].at - vm[0].at} ms after the first 429`,
    );
    assert.ok(
      vm[2].at - vm[1].at >= 8000 && vm[2].at - vm[1].at <= 12100,
      `${vm[2].at - vm[1].at} ms after the second`,
    );
  });

  it("retries a status beyond any HTTP status (the table's last row ends at 999) as transient", () => {
    const rule = classify("arm", { kind: "response", status: 1000, headers: {}, body: "" });
    assert.deepEqual([rule.verdict, rule.why], ["transient", "an answer neither service documents for this request"]);
  });

  it("ends on Deleting and Failed in any case, as on Succeeded", async () => {
    for (const [state, kind] of [
      ["DELETING", "gone"],
      ["deleting", "gone"],
      ["FAILED", "failed"],
      ["failed", "failed"],
      ["SUCCEEDED", "succeeded"],
    ]) {
      const sim = await simulate((f) => f.schedule(2000, { vm: state }));
      assert.equal(sim.outcome.kind, kind, state);
      assert.ok(sim.elapsed - 2000 <= 1300, `${state} seen ${sim.elapsed - 2000} ms late`);
    }
  });

  it("starts the fault back-off afresh after a success: a 500 after recovery is retried within about 1 s", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.serverError(), 5);
      f.schedule(40000, { fault: { route: "vm", fault: faults.serverError() } });
      f.schedule(60000, { vm: "Succeeded" });
    });
    assert.equal(sim.outcome.kind, "succeeded");
    const vm = sim.fake.callsTo("vm");
    // Five 500s in a row back off to about 16 s...
    assert.ok(vm[5].at - vm[4].at >= 12000, `${vm[5].at - vm[4].at} ms after the fifth 500`);
    // ...but the first 500 after a 200 waits as a first fault does.
    const late = vm.findIndex((c, i) => i > 5 && c.status === 500);
    assert.ok(late > 5, "the late 500 was served");
    assert.ok(
      vm[late + 1].at - vm[late].at <= 1500,
      `${vm[late + 1].at - vm[late].at} ms after a 500 that followed a 200`,
    );
  });

  it("allows one immediate token refresh per 401 again after a success", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.expiredToken());
      f.schedule(10000, { fault: { route: "vm", fault: faults.expiredToken() } });
      f.schedule(20000, { vm: "Succeeded" });
    });
    assert.equal(sim.outcome.kind, "succeeded");
    assert.equal(sim.logs.filter((l) => /refreshing the token and retrying now$/.test(l)).length, 2);
    assert.ok(sim.logs.every((l) => !/token still rejected/.test(l)));
    assert.equal(sim.fake.callsTo("token").length, 3);
  });

  it("keeps the fast phase for after a long kept-file wait: Succeeded 20 s after a file that took 5 min is seen within 1.3 s", async () => {
    const sim = await simulate(
      (f, files) => {
        files.schedule(300000, KEPT, f.vmId);
        f.schedule(320000, { vm: "Succeeded" });
      },
      { keptFile: KEPT },
    );
    assert.equal(sim.outcome.kind, "succeeded");
    assert.ok(
      sim.fake.callsTo("vm").filter((c) => rel(sim, c) < 300000).length >= 30,
      "the wait read ARM ~every 8-9 s",
    );
    assert.ok(sim.elapsed - 320000 <= 1300, `Succeeded seen ${sim.elapsed - 320000} ms late`);
  });

  it("in a busy fleet, a kept file that comes first waits for the next paced read, and says so", async () => {
    const busy = ok200('{"properties":{"provisioningState":"Creating"}}', {
      "x-ms-ratelimit-remaining-subscription-reads": "100",
    });
    const sim = await simulate(
      (f, files) => {
        f.fail("vm", busy, 100);
        files.schedule(5000, KEPT, f.vmId);
      },
      { keptFile: KEPT, timeoutSeconds: 120 },
    );
    assert.ok(
      sim.logs.some((l) =>
        /\] the kept file came before ARM's Succeeded: the extension runs, so reading ARM at the next paced read \(the fleet is busy\), then fast$/.test(
          l,
        ),
      ),
    );
    const vm = sim.fake.callsTo("vm");
    const afterFile = vm.find((c) => rel(sim, c) > 5000)!;
    assert.ok(rel(sim, afterFile) >= 5000 + 8000, `read at ${rel(sim, afterFile)} ms, right after the file`);
  });

  it("in a fleet that holds the principal's bucket at its setpoint (40 %: 100 left at every answer), keeps its period", async () => {
    const steady = ok200('{"properties":{"provisioningState":"Creating"}}', {
      "x-ms-ratelimit-remaining-subscription-reads": "100",
    });
    const sim = await simulate((f) => f.fail("vm", steady, 1000), { timeoutSeconds: 300 });
    const vm = sim.fake.callsTo("vm").map((c) => rel(sim, c));
    // Its first period comes from the count alone; then the fleet's rate (25/s) is on target (25/s at the setpoint), so it stays.
    const period = nextPace(undefined, { shared: [100, undefined, undefined] }, 0, VM_STEADY_MS, false).periodMs;
    assert.ok(vm.length >= 12, `${vm.length} reads`);
    for (let i = 2; i < vm.length; i++) {
      const gap = vm[i] - vm[i - 1];
      assert.ok(
        gap >= period && gap <= period * (1 + JITTER) + 50,
        `read ${i} came ${gap} ms after the last (period ${period})`,
      );
    }
  });

  it("percent-encodes the VM's id in the URL (a resource group may hold non-ASCII letters)", async () => {
    const resourceId =
      "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/grüppe(1)/providers/Microsoft.Compute/virtualMachines/vm1";
    const sim = await simulate(() => undefined, { timeoutSeconds: 5, fake: { resourceId } });
    const arm = sim.urls.filter((u) => u.indexOf("/subscriptions/") >= 0);
    assert.ok(arm.length >= 1);
    assert.equal(
      arm[0],
      "http://fake.invalid/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/gr%C3%BCppe(1)/providers/" +
        "Microsoft.Compute/virtualMachines/vm1?api-version=2024-11-01",
    );
  });
});
