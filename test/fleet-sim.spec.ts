import * as assert from "assert";
import { FakeAzure, IMDS_URL, ARM_URL, vmResourceId, SCALE_SET_ID } from "../scripts/fleet/azure";
import {
  PER_VM_FLOOR_MS,
  boundLatenciesMs,
  issueBoundMs,
  pollingFloorMs,
  quantile,
  waitingCounter,
} from "../scripts/fleet/bound";
import { ARM_RTT_MEDIAN_MS } from "../scripts/fleet/constants";
import { ScaleOut, VmTimeline, planScaleOut, scaleSetStateAt, vmStateAt } from "../scripts/fleet/platform";
import { SIM_EPOCH_MS, runFleet } from "../scripts/fleet/run";
import { EventLoop, Rng, TimerQueue, TokenBucket } from "../scripts/fleet/sim";
import { runTutorial } from "../scripts/fleet/tutorial";
import type { Env, HttpResult } from "../agent/src/core/types";
import { runWaiter } from "../agent/src/core";

const T0 = SIM_EPOCH_MS;

describe("fleet simulation: token bucket", () => {
  it("starts full, refuses the call after the capacity, and refills one token per 5 s at 12/min", () => {
    const b = new TokenBucket(36, 12 / 60_000, T0);
    for (let i = 0; i < 36; i++) assert.strictEqual(b.take(T0), true, `take ${i}`);
    assert.strictEqual(b.take(T0), false);
    assert.strictEqual(b.remaining(T0), 0);
    assert.strictEqual(b.msUntilToken(T0), 5000);
    assert.strictEqual(b.take(T0 + 4999), false);
    assert.strictEqual(b.take(T0 + 5000), true);
    assert.strictEqual(b.take(T0 + 5000), false);
  });

  it("never holds more than its capacity however long it rests", () => {
    const b = new TokenBucket(250, 25 / 1000, T0);
    b.take(T0);
    assert.strictEqual(b.remaining(T0 + 3_600_000), 250);
  });

  it("refills 25 reads per second for the ARM principal bucket", () => {
    const b = new TokenBucket(250, 25 / 1000, T0);
    for (let i = 0; i < 250; i++) b.take(T0);
    assert.strictEqual(b.remaining(T0 + 1000), 25);
  });
});

describe("fleet simulation: event queue and virtual clock", () => {
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

  it("stops at the horizon even if timers remain", async () => {
    const loop = new EventLoop(T0);
    loop.at(T0 + 10, () => undefined);
    loop.at(T0 + 10_000, () => undefined);
    await loop.run(() => false, T0 + 5000);
    assert.strictEqual(loop.now(), T0 + 10);
  });
});

function fleetOf(vms: Partial<VmTimeline>[], scaleSetSucceeded: number): ScaleOut {
  const full = vms.map((v, index) => ({
    index,
    agentStart: T0,
    succeeded: T0 + 10_000,
    extra: false,
    deleting: Infinity,
    gone: Infinity,
    ...v,
  }));
  return { requested: full.filter((v) => !v.extra).length, vms: full, scaleSetSucceeded, nthSucceeded: T0 };
}

describe("fleet simulation: the lower bound", () => {
  it("is the per-VM refill floor (2.5 s) for a lone VM and W/(2x25) s for W waiting VMs", () => {
    assert.strictEqual(PER_VM_FLOOR_MS, 2500);
    assert.strictEqual(pollingFloorMs(1), 2500 + ARM_RTT_MEDIAN_MS);
    assert.strictEqual(pollingFloorMs(125), 2500 + ARM_RTT_MEDIAN_MS);
    assert.strictEqual(pollingFloorMs(1000), 20_000 + ARM_RTT_MEDIAN_MS);
  });

  it("prints the issue's rough form from N: 20 s (+RTT) at N=1000", () => {
    assert.strictEqual(issueBoundMs(1000), 20_000 + ARM_RTT_MEDIAN_MS);
    assert.strictEqual(issueBoundMs(10), 2500 + ARM_RTT_MEDIAN_MS);
  });

  it("counts only the instances still waiting for their own Succeeded", () => {
    const s = fleetOf(
      [
        { agentStart: T0, succeeded: T0 + 10_000 },
        { agentStart: T0 + 5000, succeeded: T0 + 20_000 },
        { agentStart: T0 + 6000, succeeded: Infinity, extra: true, deleting: T0 + 15_000, gone: T0 + 30_000 },
      ],
      T0 + 30_000,
    );
    const w = waitingCounter(s);
    assert.strictEqual(w(T0 - 1), 0);
    assert.strictEqual(w(T0 + 7000), 3);
    assert.strictEqual(w(T0 + 12_000), 2);
    assert.strictEqual(w(T0 + 16_000), 1);
    assert.strictEqual(w(T0 + 25_000), 0);
  });

  it("admits 36 instances at the scale set's Succeeded and then one per 5 s through the scale set's bucket", () => {
    const S = T0 + 100_000;
    const s = fleetOf(
      Array.from({ length: 40 }, () => ({ agentStart: T0, succeeded: T0 + 10_000 })),
      S,
    );
    const b = boundLatenciesMs(s, { gate: true, scaleSetBucket: true }).sort((x, y) => x - y);
    const base = S + 2 * ARM_RTT_MEDIAN_MS - (T0 + 10_000);
    assert.strictEqual(b[0], base);
    assert.strictEqual(b[35], base);
    assert.strictEqual(b[36], base + 5000);
    assert.strictEqual(b[39], base + 20_000);
    const flat = boundLatenciesMs(s, { gate: true });
    assert.ok(flat.every((x) => x === base));
  });

  it("with the gate, serves 2 reads per instance after the scale set's Succeeded from 250 + 25/s", () => {
    const S = T0 + 100_000;
    const s = fleetOf(
      Array.from({ length: 1000 }, () => ({ agentStart: T0, succeeded: T0 + 10_000 })),
      S,
    );
    const b = boundLatenciesMs(s, { gate: true }).sort((x, y) => x - y);
    const base = S + 2 * ARM_RTT_MEDIAN_MS - (T0 + 10_000);
    assert.strictEqual(b[124], base, "the first 125 fit in the bucket");
    assert.strictEqual(b[125], base + 80, "then one instance per 2/25 s");
    assert.strictEqual(b[999], base + 70_000);
  });

  it("quantile picks the nearest rank", () => {
    assert.strictEqual(quantile([5, 1, 4, 2, 3], 0.5), 3);
    assert.strictEqual(quantile([1, 2, 3, 4], 0.99), 4);
  });
});

describe("fleet simulation: the scale-out", () => {
  it("creates ceil(20 %) extras, keeps exactly N, and finishes the scale set after the last extra is gone", () => {
    const s = planScaleOut({ requested: 100, overprovision: true, seed: 3, start: T0 });
    assert.strictEqual(s.vms.length, 120);
    assert.strictEqual(s.vms.filter((v) => !v.extra).length, 100);
    for (const v of s.vms.filter((x) => !x.extra)) assert.ok(v.succeeded <= s.nthSucceeded);
    for (const v of s.vms.filter((x) => x.extra)) {
      assert.strictEqual(v.deleting, s.nthSucceeded + 5000);
      assert.ok(v.gone > v.deleting && v.gone <= s.scaleSetSucceeded);
      assert.strictEqual(vmStateAt(v, v.deleting), "Deleting");
      assert.strictEqual(vmStateAt(v, v.gone), null);
    }
    assert.strictEqual(scaleSetStateAt(s, s.scaleSetSucceeded - 1), "Updating");
    assert.strictEqual(scaleSetStateAt(s, s.scaleSetSucceeded), "Succeeded");
  });

  it("is the same fleet for the same seed", () => {
    const a = planScaleOut({ requested: 50, overprovision: true, seed: 9, start: T0 });
    const b = planScaleOut({ requested: 50, overprovision: true, seed: 9, start: T0 });
    assert.deepStrictEqual(a, b);
  });
});

async function call(
  env: Env,
  url: string,
  headers: Record<string, string>,
): Promise<HttpResult & { kind: "response" }> {
  const r = await env.request({ method: "GET", url, headers, timeoutMs: 10_000 });
  assert.strictEqual(r.kind, "response");
  return r as HttpResult & { kind: "response" };
}

describe("fleet simulation: simulated IMDS and ARM", () => {
  const setup = (n: number) => {
    const s = planScaleOut({ requested: n, overprovision: false, seed: 1, start: T0 });
    const loop = new EventLoop(T0);
    return { s, loop, azure: new FakeAzure(loop, s, new Rng(1)) };
  };

  it("serves resourceId as text, azEnvironment, and a token whose numbers are strings", async () => {
    const { s, loop, azure } = setup(1);
    const env = azure.envFor(s.vms[0]);
    let done = false;
    const p = (async () => {
      const rid = await call(
        env,
        `${IMDS_URL}/metadata/instance/compute/resourceId?api-version=2021-02-01&format=text`,
        { Metadata: "true" },
      );
      assert.strictEqual(rid.body, vmResourceId(0));
      const cloud = await call(
        env,
        `${IMDS_URL}/metadata/instance/compute/azEnvironment?api-version=2021-02-01&format=text`,
        { Metadata: "true" },
      );
      assert.strictEqual(cloud.body, "AzurePublicCloud");
      const tok = await call(
        env,
        `${IMDS_URL}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`,
        { Metadata: "true" },
      );
      const body = JSON.parse(tok.body);
      assert.strictEqual(typeof body.expires_on, "string");
      assert.strictEqual(Number(body.expires_on), Math.floor(loop.now() / 1000) + 86399);
      const noHeader = await call(env, `${IMDS_URL}/metadata/instance?api-version=2021-02-01`, {});
      assert.strictEqual(noHeader.status, 400);
      done = true;
    })();
    await loop.run(() => done);
    await p;
  });

  it("answers 429 with Retry-After once the principal's 250 reads are spent, and says so in the header", async () => {
    const { s, loop, azure } = setup(300);
    const results: HttpResult[] = [];
    let done = 0;
    for (const vm of s.vms) {
      const env = azure.envFor(vm);
      void env
        .request({
          method: "GET",
          url: `${ARM_URL}${vmResourceId(vm.index)}?api-version=2024-11-01`,
          headers: { Authorization: "Bearer t" },
          timeoutMs: 10_000,
        })
        .then((r) => {
          results.push(r);
          done++;
        });
    }
    await loop.run(() => done === 300);
    const statuses = results.map((r) => (r.kind === "response" ? r.status : 0));
    assert.strictEqual(statuses.filter((x) => x === 200).length, 250);
    assert.strictEqual(statuses.filter((x) => x === 429).length, 50);
    const throttled = results.find((r) => r.kind === "response" && r.status === 429) as HttpResult & {
      kind: "response";
    };
    assert.strictEqual(throttled.headers["retry-after"], "1");
    assert.strictEqual(throttled.headers["x-ms-ratelimit-remaining-subscription-reads"], "0");
    assert.strictEqual(azure.counters.throttledByArm, 50);
  });

  it("throttles the 37th read of one VM in Compute with Retry-After 60 and reports the per-VM bucket", async () => {
    const { s, loop, azure } = setup(1);
    const env = azure.envFor(s.vms[0]);
    let done = false;
    const statuses: number[] = [];
    let last: HttpResult & { kind: "response" } = { kind: "response", status: 0, headers: {}, body: "" };
    void (async () => {
      for (let i = 0; i < 37; i++) {
        last = await call(env, `${ARM_URL}${vmResourceId(0)}?api-version=2024-11-01`, { Authorization: "Bearer t" });
        statuses.push(last.status);
      }
      done = true;
    })();
    await loop.run(() => done);
    assert.deepStrictEqual(statuses.slice(0, 36), new Array(36).fill(200));
    assert.strictEqual(statuses[36], 429);
    assert.strictEqual(last.headers["retry-after"], "60");
    assert.match(last.headers["x-ms-ratelimit-remaining-resource"], /^Microsoft\.Compute\/GetVMScaleSetVM;0,/);
    assert.strictEqual(azure.counters.throttledByCompute, 1);
  });

  it("reports the instance's state at the moment of the read, and the scale set's", async () => {
    const { s, loop, azure } = setup(1);
    const vm = s.vms[0];
    const env = azure.envFor(vm);
    let done = false;
    const states: string[] = [];
    void (async () => {
      states.push(
        JSON.parse(
          (await call(env, `${ARM_URL}${vmResourceId(0)}?api-version=2024-11-01`, { Authorization: "Bearer t" })).body,
        ).properties.provisioningState,
      );
      await env.sleep(vm.succeeded - loop.now());
      states.push(
        JSON.parse(
          (await call(env, `${ARM_URL}${vmResourceId(0)}?api-version=2024-11-01`, { Authorization: "Bearer t" })).body,
        ).properties.provisioningState,
      );
      await env.sleep(s.scaleSetSucceeded - loop.now());
      states.push(
        JSON.parse(
          (await call(env, `${ARM_URL}${SCALE_SET_ID}?api-version=2024-11-01`, { Authorization: "Bearer t" })).body,
        ).properties.provisioningState,
      );
      done = true;
    })();
    await loop.run(() => done);
    assert.deepStrictEqual(states, ["Creating", "Succeeded", "Succeeded"]);
  });
});

describe("fleet simulation: small fleets end to end", function () {
  // Virtual time: each fleet takes well under a second alone, but a loaded 2-core machine can stretch that.
  this.timeout(30_000);
  it("the tutorial's script at N=10 starts every worker 10-22 s after Succeeded, with no 429", async () => {
    const r = await runFleet(runTutorial, { requested: 10, overprovision: false, seed: 11, gate: false });
    assert.strictEqual(r.latencies.length, 10);
    assert.strictEqual(r.throttled, 0);
    for (const l of r.latencies) assert.ok(l >= 10_000 && l <= 22_000, `latency ${l}`);
  });

  it("the tutorial's script at N=1000, all created within a minute, is throttled and starts workers on deleted extras", async () => {
    const r = await runFleet(runTutorial, {
      requested: 1000,
      overprovision: true,
      seed: 1001,
      gate: false,
      createPerS: 50,
    });
    assert.ok(r.throttled > 1000, `429s ${r.throttled}`);
    assert.ok(r.workersOnDeleted > 0, "no worker on a deleted extra");
  });

  it("the agent's own core at N=10 starts every worker within the bound, with no 429", async () => {
    const r = await runFleet(runWaiter, { requested: 10, overprovision: false, seed: 11, gate: false });
    assert.strictEqual(r.latencies.length, 10);
    assert.strictEqual(r.notStarted, 0);
    assert.strictEqual(r.throttled, 0);
    assert.strictEqual(r.earlyRetries, 0);
    assert.ok(r.p50 <= r.bound.p50, `p50 ${r.p50} ms, bound ${r.bound.p50} ms`);
  });

  it("the agent's own core at N=500 stays within 1.25x the bound with no 429", async () => {
    const r = await runFleet(runWaiter, { requested: 500, overprovision: false, seed: 20261124 + 500, gate: false });
    assert.strictEqual(r.notStarted, 0);
    assert.strictEqual(r.throttled, 0);
    assert.strictEqual(r.earlyRetries, 0);
    assert.ok(r.p50 <= 1.25 * r.bound.p50, `p50 ${r.p50} ms, bound ${r.bound.p50} ms`);
  });

  it("the agent's own core at N=100 with --kept-file starts no worker on a deleted extra and never calls before Retry-After", async () => {
    const r = await runFleet(runWaiter, { requested: 100, overprovision: true, seed: 101, gate: true });
    assert.strictEqual(r.total, 120);
    assert.strictEqual(r.workersOnDeleted, 0);
    assert.strictEqual(r.notStarted, 0);
    assert.strictEqual(r.earlyRetries, 0);
    assert.strictEqual(r.outcomes.succeeded, 100);
  });

  it("the agent's own core at N=1000 with --kept-file stays within 1.25x the bound with no 429", async () => {
    const r = await runFleet(runWaiter, { requested: 1000, overprovision: true, seed: 20261124 + 1000, gate: true });
    assert.strictEqual(r.workersOnDeleted, 0);
    assert.strictEqual(r.notStarted, 0);
    assert.strictEqual(r.throttled, 0);
    assert.strictEqual(r.earlyRetries, 0);
    assert.ok(r.p50 <= 1.25 * r.bound.p50, `p50 ${r.p50} ms, bound ${r.bound.p50} ms`);
  });
});
