import * as assert from "assert";
import type { Env, HttpRequest, HttpResult } from "../agent/src/core/types";
import { runWaiter } from "../agent/src/core";
import {
  ARM_RTT_MEDIAN_MS,
  GOAL_STATE_PERIOD_S,
  RBAC_PROPAGATION_S,
  ROLE_ASSIGNMENT_CREATE_S,
} from "../scripts/fleet/constants";
import { KEPT_FILE_WAIT_MS, PER_VM_WAIT_MS, boundStartsMs, quantile } from "../scripts/fleet/bound";
import { Deployment, VmTimeline, planDeployment, readyAt, vmStateAt } from "../scripts/fleet/platform";
import { ARM_URL, IMDS_URL, SimulatedRegion, scaleSetId, vmResourceId } from "../scripts/fleet/region";
import { SIM_EPOCH_MS, runFleet } from "../scripts/fleet/run";
import { EventLoop, Rng, TimerQueue, TokenBucket } from "../scripts/fleet/sim";
import { runTutorial } from "../scripts/fleet/tutorial";

const T0 = SIM_EPOCH_MS;
type Answer = HttpResult & { kind: "response" };

describe("fleet simulation: token bucket, timers and virtual clock", () => {
  it("starts full, refuses the call after the capacity, and refills one token per 5 s at 12/min", () => {
    const b = new TokenBucket(36, 12 / 60_000, T0);
    for (let i = 0; i < 36; i++) assert.strictEqual(b.take(T0), true, `take ${i}`);
    assert.strictEqual(b.take(T0), false);
    assert.strictEqual(b.msUntilToken(T0), 5000);
    assert.strictEqual(b.take(T0 + 4999), false);
    assert.strictEqual(b.take(T0 + 5000), true);
  });

  it("never holds more than its capacity however long it rests", () => {
    const b = new TokenBucket(250, 25 / 1000, T0);
    b.take(T0);
    assert.strictEqual(b.remaining(T0 + 3_600_000), 250);
  });

  it("pops timers by time, and equal times in the order they were scheduled", () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    q.push(30, () => fired.push("c"));
    q.push(10, () => fired.push("a1"));
    q.push(20, () => fired.push("b"));
    q.push(10, () => fired.push("a2"));
    while (q.size) q.pop()!.fire();
    assert.deepStrictEqual(fired, ["a1", "a2", "b", "c"]);
  });

  it("runs async code to its next await between events, so chained sleeps add up in virtual time", async () => {
    const loop = new EventLoop(T0);
    const seen: number[] = [];
    const worker = async (gap: number) => {
      for (let i = 0; i < 3; i++) {
        await loop.sleep(gap);
        seen.push(loop.now() - T0);
      }
    };
    let done = 0;
    void worker(1000).then(() => done++);
    void worker(1500).then(() => done++);
    await loop.run(() => done === 2);
    assert.deepStrictEqual(seen, [1000, 1500, 2000, 3000, 3000, 4500]);
  });
});

/** A region over a hand-made deployment: `sets` scale sets of `perSet` VMs, all booted at T0 and Creating. */
function region(sets: number, perSet: number, over: Partial<Deployment> = {}, forbiddenCounted = true) {
  const vms: VmTimeline[] = [];
  for (let j = 0; j < sets; j++) {
    for (let i = 0; i < perSet; i++) {
      vms.push({
        index: vms.length,
        scaleSet: j,
        instance: i,
        created: T0,
        agentStart: T0,
        provisioned: Infinity,
        extra: false,
        keptFileAt: Infinity,
        succeeded: Infinity,
        deleting: Infinity,
        gone: Infinity,
      });
    }
  }
  const scaleSets = Array.from({ length: sets }, (_, index) => ({
    index,
    requested: perSet,
    released: NaN,
    completed: Infinity,
    rbacReady: -Infinity,
  }));
  const d: Deployment = { first: false, overprovision: false, scaleSets, vms, ...over };
  const loop = new EventLoop(T0);
  return { d, loop, region: new SimulatedRegion(loop, d, new Rng(1), { forbiddenCounted }) };
}

/** Sends `req` for `vm` at `atMs` after T0 through its Env, runs the loop, and returns every answer in order. */
async function send(r: ReturnType<typeof region>, calls: Array<{ vm: number; atMs: number; url: string }>) {
  const answers: Answer[] = new Array(calls.length);
  let done = 0;
  calls.forEach((c, k) => {
    r.loop.at(T0 + c.atMs, () => {
      const env: Env = r.region.envFor(r.d.vms[c.vm]);
      const req: HttpRequest = {
        method: "GET",
        url: c.url,
        headers: { Authorization: "Bearer t", Metadata: "true" },
        timeoutMs: 10_000,
      };
      void env.request(req).then((a) => {
        answers[k] = a as Answer;
        done++;
      });
    });
  });
  await r.loop.run(() => done === calls.length);
  return answers;
}

const vmUrl = (r: ReturnType<typeof region>, vm: number) =>
  `${ARM_URL}${vmResourceId(r.d.vms[vm])}?api-version=2024-11-01`;
const statuses = (as: Answer[]) => as.map((a) => a.status);
const count = (as: Answer[], status: number) => as.filter((a) => a.status === status).length;

describe("fleet simulation: the region enforces every documented budget", () => {
  it("ARM: 250 reads per principal, then 429 with Retry-After, and each scale set has its own", async () => {
    const r = region(2, 260);
    const answers = await send(r, [
      ...r.d.vms.filter((v) => v.scaleSet === 0).map((v) => ({ vm: v.index, atMs: 0, url: vmUrl(r, v.index) })),
      ...r.d.vms.filter((v) => v.scaleSet === 1).map((v) => ({ vm: v.index, atMs: 0, url: vmUrl(r, v.index) })),
    ]);
    assert.strictEqual(count(answers.slice(0, 260), 429), 10);
    assert.strictEqual(count(answers.slice(260), 429), 10, "the second scale set's identity has its own 250");
    const throttled = answers.find((a) => a.status === 429)!;
    assert.strictEqual(throttled.headers["retry-after"], "1");
    assert.strictEqual(throttled.headers["x-ms-ratelimit-remaining-subscription-reads"], "0");
    assert.strictEqual(r.region.counters.throttledByArm, 20);
  });

  it("ARM: 3,750 reads per subscription across every principal", async () => {
    const r = region(16, 250);
    const answers = await send(
      r,
      r.d.vms.map((v) => ({ vm: v.index, atMs: 0, url: vmUrl(r, v.index) })),
    );
    assert.strictEqual(count(answers, 200), 3750);
    assert.strictEqual(count(answers, 429), 250);
    assert.strictEqual(answers[3749].headers["x-ms-ratelimit-remaining-subscription-global-reads"], "0");
  });

  it("Compute: the 37th read of one VM is throttled with Retry-After 60, and the per-VM count is in the header", async () => {
    const r = region(1, 1);
    const calls = Array.from({ length: 37 }, (_, k) => ({ vm: 0, atMs: k, url: vmUrl(r, 0) }));
    const answers = await send(r, calls);
    assert.deepStrictEqual(statuses(answers.slice(0, 36)), new Array(36).fill(200));
    assert.strictEqual(answers[36].status, 429);
    assert.strictEqual(answers[36].headers["retry-after"], "60");
    assert.match(
      answers[36].headers["x-ms-ratelimit-remaining-resource"],
      /GetVMScaleSetVM30Min;0,.*Subscription30Min;5965$/,
    );
    assert.strictEqual(r.region.counters.throttledByCompute, 1);
  });

  it("Compute: 6,000 scale-set VM reads per subscription, refilled 2,000/min", async () => {
    // 3,750 reads at T0 (the global ARM bucket's all), the same 10 s later: Compute's bucket then
    // holds 6,000 − 3,750 + 333 tokens, so 3,750 − 2,583 = 1,167 are refused.
    const r = region(15, 250);
    const calls = r.d.vms.flatMap((v) => [0, 10_000].map((atMs) => ({ vm: v.index, atMs, url: vmUrl(r, v.index) })));
    const answers = await send(r, calls);
    assert.strictEqual(count(answers, 429), 1167);
    assert.strictEqual(r.region.counters.throttledByCompute, 1167);
    assert.strictEqual(r.region.counters.throttledByArm, 0);
  });

  it('Compute: "Low Cost Get VMSS", 36 per scale set and 2,400 per subscription', async () => {
    const one = region(1, 37);
    const setUrl = (j: number) => `${ARM_URL}${scaleSetId(j)}?api-version=2024-11-01`;
    const answers = await send(
      one,
      one.d.vms.map((v) => ({ vm: v.index, atMs: 0, url: setUrl(0) })),
    );
    assert.strictEqual(count(answers, 429), 1);
    assert.match(answers[36].body, /GetVMScaleSet30Min/);
    const many = region(67, 36);
    const all = await send(
      many,
      many.d.vms.map((v) => ({ vm: v.index, atMs: 0, url: setUrl(v.scaleSet) })),
    );
    assert.strictEqual(count(all, 429), 67 * 36 - 2400);
    assert.strictEqual(many.region.counters.scaleSetReads, 67 * 36);
  });

  it("IMDS: 5 requests/s per VM; the managed identity 5 in flight per VM", async () => {
    const r = region(1, 1);
    const meta = `${IMDS_URL}/metadata/instance/compute/vmId?api-version=2021-02-01&format=text`;
    const token = `${IMDS_URL}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`;
    const answers = await send(r, [
      ...Array.from({ length: 6 }, () => ({ vm: 0, atMs: 0, url: meta })),
      ...Array.from({ length: 6 }, () => ({ vm: 0, atMs: 0, url: token })),
    ]);
    assert.deepStrictEqual(statuses(answers), [200, 200, 200, 200, 200, 429, 200, 200, 200, 200, 200, 429]);
    assert.strictEqual(r.region.counters.throttledByImds, 2);
  });

  it("a first deployment: 403 until the role assignment has propagated, counted and reporting ARM's counts (or neither)", async () => {
    const counted = region(1, 2, undefined);
    counted.d.scaleSets[0].rbacReady = T0 + 1000;
    const a = await send(counted, [
      { vm: 0, atMs: 0, url: vmUrl(counted, 0) },
      { vm: 1, atMs: 1000, url: vmUrl(counted, 1) },
    ]);
    assert.deepStrictEqual(statuses(a), [403, 200]);
    assert.match(a[0].body, /AuthorizationFailed/);
    assert.strictEqual(a[0].headers["x-ms-ratelimit-remaining-subscription-reads"], "249");
    assert.strictEqual(a[0].headers["x-ms-ratelimit-remaining-resource"], undefined, "Compute never sees a 403");
    const blind = region(1, 1, undefined, false);
    blind.d.scaleSets[0].rbacReady = T0 + 1000;
    const b = await send(blind, [{ vm: 0, atMs: 0, url: vmUrl(blind, 0) }]);
    assert.strictEqual(b[0].status, 403);
    assert.strictEqual(b[0].headers["x-ms-ratelimit-remaining-subscription-reads"], undefined);
    assert.strictEqual(blind.region.principalReadsRemaining(), 250);
  });

  it("lets a waiter's clock run ahead through its sleeps, and answers its request at its own time", async () => {
    const r = region(1, 1);
    r.d.vms[0].succeeded = T0 + 60_000;
    const env = r.region.envFor(r.d.vms[0]);
    let state = "";
    void (async () => {
      await env.sleep(59_000);
      assert.strictEqual(r.loop.now(), T0, "sleeping schedules nothing");
      await env.sleep(1_000);
      const res = (await env.request({
        method: "GET",
        url: vmUrl(r, 0),
        headers: { Authorization: "Bearer t" },
        timeoutMs: 10_000,
      })) as Answer;
      state = JSON.parse(res.body).properties.provisioningState;
    })();
    await r.loop.run(() => state !== "");
    assert.strictEqual(state, "Succeeded");
    assert.ok(env.now() > T0 + 60_000 && env.now() < T0 + 62_000);
  });
});

describe("fleet simulation: the platform's timeline", () => {
  const plan = (over: boolean, first: boolean, extra: object = {}) =>
    planDeployment({ requested: 100, overprovision: over, first, seed: 3, start: T0, ...extra });

  it("without overprovisioning: no extension, no kept file, no extras; Succeeded is the end of OS provisioning", () => {
    const d = plan(false, false);
    assert.strictEqual(d.vms.length, 100);
    for (const v of d.vms) {
      assert.strictEqual(v.succeeded, v.provisioned);
      assert.strictEqual(v.keptFileAt, Infinity);
      assert.strictEqual(v.extra, false);
    }
  });

  it('holds extensions until N have finished OS provisioning ("provisioned"): those N are kept, then file, then Succeeded', () => {
    const d = plan(true, false);
    const s = d.scaleSets[0];
    const kept = d.vms.filter((v) => !v.extra);
    const extras = d.vms.filter((v) => v.extra);
    assert.strictEqual(kept.length, 100);
    assert.strictEqual(extras.length, 20);
    assert.strictEqual(s.released, Math.max(...kept.map((v) => v.provisioned)));
    for (const v of extras) assert.ok(!(v.provisioned < s.released), "an extra finished provisioning before a kept VM");
    for (const v of kept) {
      const start = Math.max(v.provisioned, s.released);
      assert.ok(v.keptFileAt > start && v.keptFileAt - start < (GOAL_STATE_PERIOD_S + 60) * 1000);
      assert.ok(v.succeeded > v.keptFileAt);
    }
    for (const v of extras) {
      assert.strictEqual(v.keptFileAt, Infinity);
      assert.strictEqual(v.deleting, s.released + 5000);
      assert.strictEqual(vmStateAt(v, v.deleting - 1), "Creating");
      assert.strictEqual(vmStateAt(v, v.gone), null);
    }
    assert.strictEqual(s.completed, Math.max(...kept.map((v) => v.succeeded), ...extras.map((v) => v.gone)));
  });

  it("the other hold models: chosen at creation (nobody waits), once N have booted, once every instance has provisioned", () => {
    const creation = plan(true, false, { hold: "creation" });
    for (const v of creation.vms.filter((x) => !x.extra))
      assert.ok(v.keptFileAt - v.provisioned < (GOAL_STATE_PERIOD_S + 60) * 1000);
    const booted = plan(true, false, { hold: "booted" });
    const kept = booted.vms.filter((v) => !v.extra);
    assert.strictEqual(booted.scaleSets[0].released, Math.max(...kept.map((v) => v.agentStart)));
    const all = plan(true, false, { hold: "all" });
    assert.strictEqual(all.scaleSets[0].released, Math.max(...all.vms.map((v) => v.provisioned)));
  });

  it("a first deployment: RBAC lands the role assignment's creation plus the propagation after the create completes", () => {
    const d = plan(true, true);
    const s = d.scaleSets[0];
    assert.strictEqual(s.rbacReady, s.completed + (ROLE_ASSIGNMENT_CREATE_S + RBAC_PROPAGATION_S) * 1000);
    assert.strictEqual(plan(true, true, { rbacPropagationS: 600 }).scaleSets[0].rbacReady, s.completed + 605_000);
    for (const v of d.vms.filter((x) => !x.extra)) assert.strictEqual(readyAt(d, v), s.rbacReady);
    assert.strictEqual(plan(true, false).scaleSets[0].rbacReady, -Infinity);
  });

  it("is the same deployment for the same seed, ten scale sets each with its own timeline", () => {
    const a = planDeployment({ requested: 20, scaleSets: 10, overprovision: true, first: true, seed: 9, start: T0 });
    assert.deepStrictEqual(
      a,
      planDeployment({ requested: 20, scaleSets: 10, overprovision: true, first: true, seed: 9, start: T0 }),
    );
    assert.strictEqual(a.vms.length, 240);
    assert.strictEqual(new Set(a.scaleSets.map((s) => s.completed)).size, 10);
  });
});

describe("fleet simulation: the bound", () => {
  it("is the per-VM wait for a lone VM: 2.5 s, or 0.5 s once its kept file is there, plus a round trip", () => {
    const plain = planDeployment({ requested: 1, overprovision: false, first: false, seed: 1, start: T0 });
    const b = boundStartsMs(plain).get(0)! - plain.vms[0].succeeded;
    assert.strictEqual(PER_VM_WAIT_MS, 2500);
    assert.ok(Math.abs(b - (PER_VM_WAIT_MS + ARM_RTT_MEDIAN_MS)) < 1, `${b}`);
    const over = planDeployment({ requested: 1, overprovision: true, first: false, seed: 1, start: T0 });
    const kept = over.vms.find((v) => !v.extra)!;
    assert.ok(
      Math.abs(boundStartsMs(over).get(kept.index)! - kept.succeeded - (KEPT_FILE_WAIT_MS + ARM_RTT_MEDIAN_MS)) < 1,
    );
  });

  it("shares the principal's refill equally: W waiters ready at once wait W/(2×25) s", () => {
    // 1,000 waiters boot at 4/s (their first reads fit the refill), all ready 400 s in: by then the
    // bucket is empty and polling runs at 25/s, so each reads once per 40 s, half a period later.
    const r = region(1, 1000);
    r.d.vms.forEach((v, i) => {
      v.agentStart = T0 + i * 250;
      v.succeeded = T0 + 400_000;
    });
    const waits = [...boundStartsMs(r.d).values()].map((t) => t - (T0 + 400_000));
    assert.ok(
      waits.every((w) => Math.abs(w - (20_000 + ARM_RTT_MEDIAN_MS)) <= 100),
      `${quantile(waits, 0)}..${quantile(waits, 1)}`,
    );
  });

  it("counts a first deployment's wait from RBAC: the whole set reads at once when its role assignment lands", () => {
    const d = planDeployment({ requested: 200, overprovision: false, first: true, seed: 5, start: T0 });
    const rbac = d.scaleSets[0].rbacReady;
    const starts = [...boundStartsMs(d).values()];
    assert.ok(starts.every((t) => t > rbac));
    // 200 waiters, the principal refilled during the 403s: 25 + 250/10 reads/s, 4 s to half a period.
    assert.ok(
      Math.abs(quantile(starts, 0.5) - rbac - 4000 - ARM_RTT_MEDIAN_MS) <= 200,
      `${quantile(starts, 0.5) - rbac}`,
    );
  });
});

describe("fleet simulation: small fleets end to end", function () {
  // Virtual time: each fleet takes well under a second alone, but a loaded 2-core machine can stretch that.
  this.timeout(60_000);

  it("the agent's own core at N=100, overprovisioned scale-out: no 429, no worker on an extra, every kept VM started", async () => {
    const r = await runFleet(runWaiter, { requested: 100, overprovision: true, first: false, seed: 101 });
    assert.strictEqual(r.total, 120);
    assert.strictEqual(r.throttled, 0);
    assert.strictEqual(r.workersOnExtras, 0);
    assert.strictEqual(r.notStarted, 0);
    assert.strictEqual(r.earlyRetries, 0);
    assert.strictEqual(r.scaleSetReads, 0);
    assert.strictEqual(r.outcomes.succeeded, 100);
  });

  it("the agent's own core at N=100, overprovisioned first deployment: paced through the 403s, every worker started after RBAC", async () => {
    const r = await runFleet(runWaiter, { requested: 100, overprovision: true, first: true, seed: 102 });
    const rbac = r.deployment.scaleSets[0].rbacReady;
    assert.ok(r.forbidden > 100, `${r.forbidden} 403s`);
    assert.strictEqual(r.throttled, 0);
    assert.strictEqual(r.workersOnExtras, 0);
    assert.strictEqual(r.notStarted, 0);
    assert.ok(r.requestToStart.p50 + T0 > rbac);
  });

  it("an extra that reads Succeeded before the cull never starts the agent's worker, but starts the tutorial's", async () => {
    const o = {
      requested: 50,
      overprovision: true,
      first: false,
      seed: 7,
      hold: "creation" as const,
      extrasReadSucceeded: true,
    };
    const agent = await runFleet(runWaiter, o);
    assert.strictEqual(agent.workersOnExtras, 0);
    assert.strictEqual(agent.notStarted, 0);
    const script = await runFleet(runTutorial, { ...o, keptFile: false });
    assert.ok(script.workersOnExtras > 0, "no extra read Succeeded");
  });

  it("the tutorial's script at N=10 starts every worker 10-22 s after Succeeded, with no 429", async () => {
    const r = await runFleet(runTutorial, { requested: 10, overprovision: false, first: false, seed: 11 });
    assert.strictEqual(r.latencies.length, 10);
    assert.strictEqual(r.throttled, 0);
    for (const l of r.latencies) assert.ok(l >= 10_000 && l <= 22_000, `latency ${l}`);
  });
});
