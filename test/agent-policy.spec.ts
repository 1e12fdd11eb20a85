/**
 * The poll policy against its contract (not its exact numbers, which the fleet simulation may
 * retune): budgets kept over long Creating phases, fast first reads, Retry-After as a floor,
 * slower when rate-limit headers run low, bounded backoffs.
 */
import { strict as assert } from "assert";
import * as fc from "fast-check";
import {
  MAX_PERIOD_MS,
  VM_STEADY_MS,
  armDelayMs,
  armPoll,
  fleetRatePerS,
  imdsDelayMs,
  minRateLimitRemaining,
  nextPeriodMs,
} from "../agent/src/core/pollPolicy";
import type { ArmPollInput, Pace } from "../agent/src/core/pollPolicy";
import { seededRandom } from "../testkit/fake-azure/virtualEnv";

/** Compute GetVMScaleSetVM: 36 tokens, +12/min (https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits). */
const BUCKET = 36;
const REFILL_PER_MS = 12 / 60000;

function input(over: Partial<ArmPollInput>): ArmPollInput {
  return { target: "vm", reason: "state", attempt: 1, elapsedMs: 0, headers: {}, random: 0.5, ...over };
}

/** Reads of one VM over `durationMs` of Creating; returns the lowest the bucket got before a read (must stay ≥ 1). */
function lowestBucket(random: () => number, durationMs: number): { lowest: number; reads: number } {
  let tokens = BUCKET;
  let t = 0;
  let reads = 0;
  let lowest = BUCKET;
  while (t < durationMs) {
    lowest = Math.min(lowest, tokens);
    tokens -= 1;
    reads++;
    const gap = armDelayMs(input({ attempt: reads, elapsedMs: t, random: random() }));
    t += gap;
    tokens = Math.min(BUCKET, tokens + gap * REFILL_PER_MS);
  }
  return { lowest, reads };
}

describe("agent poll policy (pollPolicy.ts)", () => {
  it("keeps one VM inside the per-VM Compute bucket (36, +12/min) over an hour of Creating, for any jitter", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const { lowest } = lowestBucket(seededRandom(seed), 3600000);
        assert.ok(lowest >= 1, `bucket fell to ${lowest.toFixed(2)} before a read`);
      }),
      { numRuns: 50 },
    );
  });

  it("also survives the worst-case jitter at both ends (always shortest, always longest)", () => {
    for (const r of [0, 0.999999]) {
      const { lowest } = lowestBucket(() => r, 3600000);
      assert.ok(lowest >= 1, `random=${r}: bucket fell to ${lowest}`);
    }
  });

  it("never reads a VM faster than the refill rate in the long run (≤ 12 reads/min after the first 5 minutes)", () => {
    const random = seededRandom(7);
    let t = 0;
    const times: number[] = [];
    for (let n = 1; t < 3600000; n++) {
      times.push(t);
      t += armDelayMs(input({ attempt: n, elapsedMs: t, random: random() }));
    }
    const late = times.filter((x) => x >= 300000);
    const perMinute = (late.length / (late[late.length - 1] - late[0])) * 60000;
    assert.ok(perMinute <= 12, `${perMinute.toFixed(2)} reads/min`);
  });

  it("reads fast right after boot: the first 10 gaps are each at most 1.5 s", () => {
    for (let n = 1; n <= 10; n++) {
      for (const r of [0, 0.5, 0.999]) {
        const d = armDelayMs(input({ attempt: n, random: r }));
        assert.ok(d > 0 && d <= 1500, `attempt ${n}, random ${r}: ${d} ms`);
      }
    }
  });

  it("jitters: different random draws give different delays", () => {
    const ds = new Set([0.1, 0.4, 0.7].map((r) => armDelayMs(input({ attempt: 100, random: r }))));
    assert.equal(ds.size, 3);
  });

  it("paces scale-set reads no faster than VM reads in the steady phase", () => {
    for (const r of [0, 0.5, 0.999]) {
      assert.ok(
        armDelayMs(input({ target: "scaleSet", attempt: 100, random: r })) >=
          armDelayMs(input({ target: "vm", attempt: 100, random: 0 })),
      );
    }
  });

  it("slows down as x-ms-ratelimit-remaining-* runs low, and never speeds up", () => {
    const at = (remaining: number | undefined) =>
      armDelayMs(
        input({
          attempt: 3,
          random: 0.5,
          headers: remaining === undefined ? {} : { "x-ms-ratelimit-remaining-subscription-reads": String(remaining) },
        }),
      );
    assert.ok(at(0) > at(100), `remaining 0 → ${at(0)} ms, 100 → ${at(100)} ms`);
    assert.ok(at(0) >= 30000, `remaining 0 should back off hard, got ${at(0)} ms`);
    for (let r = 0; r < 300; r++) assert.ok(at(r) >= at(r + 1), `not monotonic at ${r}`);
    assert.equal(at(undefined), at(1000));
  });

  it("reads rate-limit headers generically: plain counts and Compute's policy lists", () => {
    assert.equal(minRateLimitRemaining({ "x-ms-ratelimit-remaining-subscription-reads": "11999" }), 11999);
    assert.equal(
      minRateLimitRemaining({
        "x-ms-ratelimit-remaining-subscription-reads": "249",
        "x-ms-ratelimit-remaining-resource":
          "Microsoft.Compute/GetVMScaleSetVM3Min;197,Microsoft.Compute/GetVMScaleSetVM30Min;1297",
      }),
      197,
    );
    assert.equal(minRateLimitRemaining({ "x-ms-ratelimit-remaining-tenant-reads": " 7 " }), 7);
    assert.equal(minRateLimitRemaining({ "x-ms-request-id": "5", "retry-after": "3" }), undefined);
    assert.equal(minRateLimitRemaining({ "x-ms-ratelimit-remaining-resource": "garbage" }), undefined);
  });

  it("waits at least the Retry-After it is given on a 429", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3600000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        (ra, r, n) => {
          assert.ok(armDelayMs(input({ reason: "throttled", attempt: n, retryAfterMs: ra, random: r })) >= ra);
        },
      ),
    );
  });

  it("backs off on faults, and every backoff is bounded (so recovery is noticed)", () => {
    for (const reason of ["throttled", "forbidden", "transient"] as const) {
      const first = armDelayMs(input({ reason, attempt: 1, random: 0.5 }));
      const tenth = armDelayMs(input({ reason, attempt: 10, random: 0.5 }));
      assert.ok(tenth > first, `${reason}: ${first} → ${tenth}`);
      for (let n = 1; n < 100; n++)
        assert.ok(armDelayMs(input({ reason, attempt: n, random: 0.999 })) <= 72000, `${reason} attempt ${n}`);
    }
    // RBAC takes up to 10 minutes: when it lands, the VM is read again within 20 s.
    for (let n = 1; n < 100; n++)
      assert.ok(armDelayMs(input({ reason: "forbidden", attempt: n, random: 0.999 })) <= 20000);
  });

  it("retries IMDS quickly and boundedly (a 410 lasts up to 70 s), and honours its Retry-After", () => {
    for (let n = 1; n < 100; n++) {
      const d = imdsDelayMs({ attempt: n, random: 0.999 });
      assert.ok(d >= 500 && d <= 10000, `attempt ${n}: ${d}`);
    }
    assert.ok(imdsDelayMs({ attempt: 1, random: 0.5, retryAfterMs: 20000 }) >= 20000);
  });
  describe("fleet pacing (the period carried from one answer to the next)", () => {
    const reads = (n: number) => ({ "x-ms-ratelimit-remaining-subscription-reads": String(n) });
    const busy = (periodMs: number, remaining: number, atMs = 0): Pace => ({ periodMs, remaining, atMs, busy: true });

    it("measures the fleet's rate from two counts: what the bucket lost plus the 25/s refill", () => {
      assert.equal(fleetRatePerS(125, 75, 10000), 30);
      assert.equal(fleetRatePerS(125, 175, 10000), 20);
      assert.equal(fleetRatePerS(249, 248, 5000), undefined, "a full bucket may have overflowed: no rate");
    });

    it("scales the period by measured / target rate: 30/s against 20/s (bucket below half) gives ×1.5", () => {
      assert.equal(nextPeriodMs(busy(10000, 125), 75, 10000, VM_STEADY_MS, false), 15000);
    });

    it("shortens the period when the fleet reads under the refill, and halves it when the bucket stays full", () => {
      assert.ok(nextPeriodMs(busy(20000, 125), 175, 20000, VM_STEADY_MS, false) < 20000);
      assert.equal(nextPeriodMs(busy(20000, 249), 248, 20000, VM_STEADY_MS, false), 10000);
    });

    it("never shortens the period with under 25 reads left, and doubles it on a 429", () => {
      assert.ok(nextPeriodMs(busy(20000, 10), 5, 20000, VM_STEADY_MS, false) >= 20000);
      assert.ok(nextPeriodMs(busy(20000, 100), 0, 20000, VM_STEADY_MS, true) >= 40000);
    });

    it("keeps the period within the per-VM floor (5 s) and the 120 s ceiling, one step at most ×2", () => {
      assert.equal(nextPeriodMs(busy(6000, 200), 249, 6000, VM_STEADY_MS, false), VM_STEADY_MS);
      assert.equal(nextPeriodMs(busy(100000, 100), 0, 1000, VM_STEADY_MS, true), MAX_PERIOD_MS);
      assert.equal(nextPeriodMs(busy(10000, 200), 0, 1000, VM_STEADY_MS, false), 20000);
    });

    it("lands a fleet of W instances on 25 reads/s, whatever W: the period converges to W/25 s", () => {
      // A mean-field fleet: W instances with one period, reading in turn from one 250-token bucket.
      for (const w of [100, 1000, 3000]) {
        let period = 5000;
        let bucket = 250;
        let pace: Pace | undefined;
        let t = 0;
        for (let round = 0; round < 60; round++) {
          const rate = (w / period) * 1000;
          bucket = Math.max(0, Math.min(250, bucket + (25 - rate) * (period / 1000)));
          t += period;
          const out = armPoll({
            target: "vm",
            reason: "state",
            attempt: 100,
            elapsedMs: t,
            headers: reads(Math.floor(bucket)),
            random: 0,
            pace,
          });
          pace = out.pace;
          period = pace.periodMs;
        }
        const want = Math.min(MAX_PERIOD_MS, Math.max(VM_STEADY_MS, (w / 25) * 1000));
        assert.ok(Math.abs(period - want) / want < 0.1, `W=${w}: period ${period} ms, want ≈ ${want} ms`);
      }
    });

    it("reads the scale set (or the VM once more) at once when the fleet is idle, as the next paced read when it is busy", () => {
      assert.equal(armDelayMs(input({ target: "scaleSet", reason: "switch", headers: reads(249) })), 0);
      assert.equal(armDelayMs(input({ target: "vm", reason: "switch", headers: {} })), 0);
      const paced = armPoll(
        input({ target: "scaleSet", reason: "switch", headers: reads(100), elapsedMs: 30000, pace: busy(30000, 100) }),
      );
      assert.ok(paced.delayMs >= paced.pace.periodMs && paced.pace.periodMs >= VM_STEADY_MS);
    });

    it("aims the scale-set phase (--overprovisioned) 5/s under the refill: 30/s against 15/s gives ×2", () => {
      assert.equal(nextPeriodMs(busy(10000, 125), 75, 10000, VM_STEADY_MS, false, true), 20000);
      const vm = armPoll(
        input({
          target: "vm",
          reason: "state",
          attempt: 30,
          headers: reads(75),
          elapsedMs: 10000,
          pace: busy(10000, 125),
        }),
      );
      const scaleSet = armPoll(
        input({
          target: "scaleSet",
          reason: "state",
          attempt: 30,
          headers: reads(75),
          elapsedMs: 10000,
          pace: busy(10000, 125),
        }),
      );
      assert.equal(vm.pace.periodMs, 15000);
      assert.equal(scaleSet.pace.periodMs, 20000);
    });

    it("enters the scale-set phase at 4× the VM-phase period (at most 120 s) when the fleet is busy", () => {
      const state = armPoll(
        input({
          target: "vm",
          reason: "state",
          attempt: 5,
          headers: reads(150),
          elapsedMs: 20000,
          pace: busy(10000, 150, 10000),
        }),
      );
      const entry = armPoll(
        input({
          target: "vm",
          reason: "switch",
          attempt: 5,
          headers: reads(150),
          elapsedMs: 20000,
          pace: busy(10000, 150, 10000),
        }),
      );
      assert.equal(entry.pace.periodMs, Math.min(MAX_PERIOD_MS, 4 * state.pace.periodMs));
      assert.ok(entry.delayMs >= entry.pace.periodMs);
      const long = armPoll(
        input({
          target: "vm",
          reason: "switch",
          attempt: 5,
          headers: reads(150),
          elapsedMs: 100000,
          pace: busy(90000, 150, 10000),
        }),
      );
      assert.equal(long.pace.periodMs, MAX_PERIOD_MS);
    });

    it("ends the fast phase for good once the fleet is busy", () => {
      const out = armPoll(input({ attempt: 2, headers: reads(200) }));
      assert.equal(out.pace.busy, true);
      const later = armPoll(input({ attempt: 3, headers: reads(249), elapsedMs: 6000, pace: out.pace }));
      assert.ok(later.delayMs >= VM_STEADY_MS, `${later.delayMs} ms`);
    });
  });
});
