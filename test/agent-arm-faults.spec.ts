/**
 * The pure core's ARM faults in virtual time: RBAC propagation, Retry-After in all its forms,
 * 5xx, resets and hung requests, odd bodies and states, and the token's life (401, refresh).
 * Which status means what is agent-retry.spec.ts.
 */
import { strict as assert } from "assert";
import { ARM_REQUEST_TIMEOUT_MS } from "../agent/src/core/constants";
import { faults } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate, sinceStart as rel } from "../testkit/fake-azure/simulate";

describe("agent core: ARM faults (virtual time)", () => {
  it("keeps waiting through RBAC propagation (403 AuthorizationFailed for 10 min), paced for it, and says so", async () => {
    const sim = await simulate((f) => {
      f.setRbacReady(false);
      f.schedule(600000, { rbac: true });
      f.schedule(60000, { vm: "Succeeded" });
    });
    assert.equal(sim.outcome.kind, "succeeded");
    assert.ok(sim.elapsed >= 600000 && sim.elapsed <= 620000, `${sim.elapsed} ms`);
    const forbidden = sim.fake.callsTo("vm").filter((c) => c.status === 403);
    assert.ok(forbidden.length >= 40 && forbidden.length <= 80, `${forbidden.length} reads during 10 min of 403`);
    // The 403 pacing (at most 15 s × 1.2), not the transient one (up to 30 s × 1.2): RBAC landing is seen within 18 s.
    for (let i = 1; i < forbidden.length; i++) {
      const gap = forbidden[i].at - forbidden[i - 1].at;
      assert.ok(gap <= 18000 + 100, `${gap} ms between two reads while RBAC propagates`);
    }
    assert.ok(sim.logs.some((l) => /ARM 403 AuthorizationFailed .*RBAC not propagated yet.*retrying in \d/.test(l)));
  });

  it("retries 500s, resets and hung requests, each bounded by its own timeout", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.serverError())
        .fail("vm", faults.reset())
        .fail("vm", faults.hang())
        .fail("vm", faults.serviceUnavailable());
      f.schedule(5000, { vm: "Succeeded" });
    });
    assert.equal(sim.outcome.kind, "succeeded");
    const vm = sim.fake.callsTo("vm");
    assert.deepEqual(
      vm.slice(0, 4).map((c) => c.fault || c.status),
      [500, "reset", "hang", 503],
    );
    assert.ok(vm[3].at - vm[2].at >= ARM_REQUEST_TIMEOUT_MS && vm[3].at - vm[2].at <= ARM_REQUEST_TIMEOUT_MS + 5000);
    assert.ok(sim.logs.some((l) => /ARM unreachable \(ETIMEDOUT\) for the VM \(no answer: .*retrying in/.test(l)));
  });

  it("keeps waiting through unparsable bodies, unknown states, Updating and Migrating", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.garbage());
      f.timeline([
        { at: 2000, vm: "Updating" },
        { at: 4000, vm: "Migrating" },
        { at: 6000, vm: "SomethingNew" },
        { at: 8000, vm: "Succeeded" },
      ]);
    });
    assert.equal(sim.outcome.kind, "succeeded");
    for (const s of ["unreadable", "Updating", "Migrating", "SomethingNew"]) {
      assert.ok(
        sim.logs.some((l) => l.indexOf(`VM provisioningState ${s}`) >= 0),
        s,
      );
    }
  });

  it("refreshes the token once and retries at once on a 401", async () => {
    const sim = await simulate((f) => {
      f.schedule(3000, { fault: { route: "vm", fault: faults.expiredToken() } });
      f.schedule(10000, { vm: "Succeeded" });
    });
    assert.equal(sim.outcome.kind, "succeeded");
    const calls = sim.fake.calls;
    const i = calls.findIndex((c) => c.status === 401);
    assert.deepEqual([calls[i + 1].route, calls[i + 2].route], ["token", "vm"]);
    assert.ok(calls[i + 2].at - calls[i].at <= 100);
    assert.equal(sim.fake.callsTo("token").length, 2);
  });

  it("keeps polling with backoff when the refreshed token is rejected too", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.expiredToken(), 4);
      f.schedule(30000, { vm: "Succeeded" });
    });
    assert.equal(sim.outcome.kind, "succeeded");
    assert.ok(sim.logs.some((l) => /token still rejected after a refresh.*retrying in/.test(l)));
  });

  it("refreshes a token before it expires during a long wait (no 401 ever)", async () => {
    const sim = await simulate((f) => f.schedule(1800000, { vm: "Succeeded" }), {
      fake: { tokenLifetimeSeconds: 600 },
    });
    assert.equal(sim.outcome.kind, "succeeded");
    assert.ok(sim.fake.callsTo("token").length >= 3);
    assert.ok(sim.fake.calls.every((c) => c.status !== 401));
  });

  it("keeps polling with the old token while a refresh fails", async () => {
    const sim = await simulate(
      (f) => {
        // Refresh is due at 900 - 300 = 600 s; the identity endpoint fails from 590 s to 710 s.
        f.schedule(590000, { fault: { route: "token", fault: faults.serverError(), durationMs: 120000 } });
        f.schedule(800000, { vm: "Succeeded" });
      },
      { fake: { tokenLifetimeSeconds: 900 } },
    );
    assert.equal(sim.outcome.kind, "succeeded");
    assert.ok(sim.fake.callsTo("token").filter((c) => c.status === 500).length >= 3);
    const reads = sim.fake.callsTo("vm").filter((c) => rel(sim, c) > 610000 && rel(sim, c) < 700000);
    assert.ok(reads.length >= 5, `${reads.length} reads while the refresh failed`);
    assert.ok(sim.fake.calls.every((c) => c.status !== 401));
  });

  it("never logs a token", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.expiredToken());
      f.fail("vm", faults.rbacNotPropagated());
      f.schedule(5000, { vm: "Succeeded" });
    });
    const all = sim.logs.join("\n");
    assert.ok(sim.fake.tokens.length >= 2);
    for (const t of sim.fake.tokens) assert.equal(all.indexOf(t), -1);
  });
});
