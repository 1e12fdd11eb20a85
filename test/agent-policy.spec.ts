/**
 * The poll policy against its contract (not its exact numbers, which the fleet simulation may
 * retune): budgets kept over long Creating phases, fast first reads, Retry-After as a floor,
 * slower when rate-limit headers run low, bounded backoffs.
 */
import { strict as assert } from "assert";
import * as fc from "fast-check";
import {
  JITTER,
  MAX_PERIOD_MS,
  PROOF_DRAIN_MS,
  PROOF_WAIT_MS,
  RETRY_AFTER_JITTER_MS,
  VM_STEADY_MS,
  afterProof,
  armDelayMs,
  armPoll,
  drainFloorMs,
  fleetRatePerS,
  imdsDelayMs,
  minRateLimitRemaining,
  nextPace,
  readCounts,
  retryAfterWithJitterMs,
  targetRatePerS,
} from "../agent/src/core/pollPolicy";
import type { ArmPollInput, Pace } from "../agent/src/core/pollPolicy";
import { ARM_READS_PER_PRINCIPAL } from "../agent/src/core/constants";
import { seededRandom } from "../testkit/fake-azure/virtualEnv";

/** Compute GetVMScaleSetVM: 36 tokens, +12/min (https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits). */
const BUCKET = 36;
const REFILL_PER_MS = 12 / 60000;

function input(over: Partial<ArmPollInput>): ArmPollInput {
  return {
    reason: "state",
    attempt: 1,
    awaitingProof: false,
    elapsedMs: 0,
    headers: {},
    retryAfter: false,
    random: 0.5,
    ...over,
  };
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

  describe("waiting for the kept file (--kept-file, no proof yet)", () => {
    it("reads between the per-VM refill (5 s) and 9.2 s apart, for any jitter, so Deleting is seen within 10 s", () => {
      for (let n = 0; n < 50; n++) {
        for (const r of [0, 0.5, 0.999999]) {
          const d = armDelayMs(input({ attempt: 0, awaitingProof: true, random: r, elapsedMs: n * 9000 }));
          assert.ok(d >= VM_STEADY_MS && d <= PROOF_WAIT_MS * (1 + JITTER), `read ${n}, random ${r}: ${d} ms`);
          assert.ok(d <= 9200, `${d} ms`);
        }
      }
    });

    it("lets the fleet's pacing win over the 10 s when the principal's bucket runs low", () => {
      const reads = (n: number) => ({ "x-ms-ratelimit-remaining-subscription-reads": String(n) });
      const out = armPoll(
        input({
          awaitingProof: true,
          attempt: 0,
          headers: reads(60),
          elapsedMs: 20000,
          pace: { periodMs: 20000, seen: [[125, 0], undefined, undefined], busy: true },
        }),
      );
      assert.ok(out.delayMs > 10000, `${out.delayMs} ms`);
    });

    it("when the file appears: reads at once and restarts at the fast floor in an idle fleet; changes nothing in a saturated one", () => {
      const idle = afterProof({ periodMs: PROOF_WAIT_MS, seen: [[249, 0], undefined, undefined], busy: false });
      assert.equal(idle.readNow, true);
      assert.equal(idle.pace!.periodMs, 1000);
      assert.deepEqual(afterProof(undefined), { readNow: true, pace: undefined });
      const saturated: Pace = { periodMs: 40000, seen: [[100, 0], undefined, undefined], busy: true };
      assert.deepEqual(afterProof(saturated), { readNow: false, pace: saturated });
      // After an idle restart the next reads are fast again.
      const next = armPoll(input({ attempt: 1, headers: {}, elapsedMs: 1000, pace: idle.pace }));
      assert.ok(next.delayMs <= 1150, `${next.delayMs} ms`);
    });

    it("in a busy fleet with room (its period under the kept-file wait's), reads at once at half the period, then fast within it", () => {
      const roomy: Pace = { periodMs: 6000, seen: [[200, 0], undefined, undefined], busy: true };
      const after = afterProof(roomy);
      assert.equal(after.readNow, true);
      assert.equal(after.pace!.periodMs, 3000);
      assert.equal(after.pace!.held, true);
      // The busy fleet's 5 s floor no longer applies: the VM spends its own burst, within P.
      const reads = (n: number) => ({ "x-ms-ratelimit-remaining-subscription-reads": String(n) });
      const next = armPoll(input({ attempt: 1, headers: reads(230), elapsedMs: 3000, pace: after.pace }));
      assert.ok(next.delayMs < VM_STEADY_MS, `${next.delayMs} ms`);
      const without = armPoll(
        input({ attempt: 1, headers: reads(230), elapsedMs: 3000, pace: { ...after.pace!, held: false } }),
      );
      assert.ok(without.delayMs >= VM_STEADY_MS, `${without.delayMs} ms`);
    });

    it("reads only every 300 s for Deleting while Compute's subscription bucket drains", () => {
      const draining = { "x-ms-ratelimit-remaining-resource": "A;30,B;5000" };
      const d = armDelayMs(input({ attempt: 0, awaitingProof: true, headers: draining }));
      assert.ok(d >= PROOF_DRAIN_MS, `${d} ms`);
    });
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

  it("leaves a 429's Retry-After to the core's gate, and backs off on its own only without one", () => {
    // With a Retry-After the policy adds nothing of its own beyond the period...
    assert.ok(armDelayMs(input({ reason: "throttled", attempt: 5, retryAfter: true, random: 0.5 })) < 5000);
    // ...without one, 5 s × 2^(n−1) (×0.8-1.2), at most 60 s.
    assert.ok(armDelayMs(input({ reason: "throttled", attempt: 3, retryAfter: false, random: 0 })) >= 16000);
  });

  it("puts a Retry-After's jitter only on top of it: never earlier, at most 1 s later", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3600000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (ra, r) => {
        const wait = retryAfterWithJitterMs(ra, r);
        assert.ok(wait >= ra && wait < ra + RETRY_AFTER_JITTER_MS);
      }),
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

  it("retries IMDS quickly and boundedly (a 410 lasts up to 70 s)", () => {
    for (let n = 1; n < 100; n++) {
      const d = imdsDelayMs({ attempt: n, random: 0.999 });
      assert.ok(d >= 500 && d <= 6000, `attempt ${n}: ${d}`);
    }
  });
  describe("fleet pacing (the period carried from one answer to the next)", () => {
    const reads = (n: number) => ({ "x-ms-ratelimit-remaining-subscription-reads": String(n) });
    const busy = (periodMs: number, remaining: number, atMs = 0): Pace => ({
      periodMs,
      seen: [[remaining, atMs], undefined, undefined],
      busy: true,
    });

    const period = (prev: Pace, remaining: number, atMs: number, throttled = false) =>
      nextPace(prev, readCounts(reads(remaining)), atMs, VM_STEADY_MS, throttled).periodMs;

    it("measures the fleet's rate from two counts: what the bucket lost plus the 25/s refill", () => {
      assert.equal(fleetRatePerS(ARM_READS_PER_PRINCIPAL, 125, 75, 10000), 30);
      assert.equal(fleetRatePerS(ARM_READS_PER_PRINCIPAL, 125, 175, 10000), 20);
      assert.equal(
        fleetRatePerS(ARM_READS_PER_PRINCIPAL, 249, 248, 5000),
        undefined,
        "a full bucket may have overflowed",
      );
    });

    it("aims a state read at the whole refill, a 403 at 60 % of it, each nudged toward its setpoint", () => {
      assert.equal(targetRatePerS(0, 100, 10000, "eager"), 25);
      assert.equal(targetRatePerS(0, 200, 10000, "patient"), 15);
      assert.equal(targetRatePerS(0, 150, 10000, "proof"), 23.75);
    });

    it("scales the period by measured / target rate: 30/s against 20/s (60 reads under the setpoint over 12 s) gives ×1.5", () => {
      assert.equal(period(busy(12000, 100), 40, 12000), 18000);
    });

    it("shortens the period when the fleet reads under the refill, and halves it when the bucket stays full", () => {
      assert.ok(period(busy(20000, 125), 175, 20000) < 20000);
      assert.equal(period(busy(20000, 249), 248, 20000), 10000);
    });

    it("never shortens the period with under 25 reads left, and doubles it on a 429", () => {
      assert.ok(period(busy(20000, 10), 5, 20000) >= 20000);
      assert.ok(period(busy(20000, 100), 0, 20000, true) >= 40000);
    });

    it("keeps the period within the per-VM floor (5 s) and the 600 s ceiling, one step at most ×2", () => {
      assert.equal(period(busy(6000, 200), 249, 6000), VM_STEADY_MS);
      assert.equal(period(busy(400000, 100), 0, 1000, true), MAX_PERIOD_MS);
      assert.equal(period(busy(10000, 200), 0, 1000), 20000);
    });

    it("follows the binding bucket: Compute's subscription count, told by its size and then by name", () => {
      const headers = (principal: number, sub: number) => ({
        ...reads(principal),
        "x-ms-ratelimit-remaining-resource": `Microsoft.Compute/PerVm;30,Microsoft.Compute/PerSub;${sub}`,
      });
      const c = readCounts(headers(249, 4000));
      assert.deepEqual(c.shared, [249, undefined, 4000]);
      assert.equal(c.computePolicy, "Microsoft.Compute/PerSub");
      assert.equal(c.vm, 30);
      // Once known by name, it is followed even below 36.
      assert.equal(readCounts(headers(249, 20), "Microsoft.Compute/PerSub").shared[2], 20);
      // The principal idles (full at both ends, ×0.5) while Compute's bucket falls 100/s: Compute decides.
      const prev: Pace = { periodMs: 10000, seen: [[249, 0], undefined, [5000, 0]], busy: true };
      const next = nextPace(prev, readCounts(headers(249, 4000)), 10000, VM_STEADY_MS, false);
      assert.equal(next.periodMs, 20000);
    });

    it("holds every period at four times the time Compute's subscription bucket needs to refill its deficit", () => {
      assert.equal(drainFloorMs(readCounts({ "x-ms-ratelimit-remaining-resource": "A;30,B;6000" })), 0);
      assert.equal(drainFloorMs(readCounts({ "x-ms-ratelimit-remaining-resource": "A;30,B;5000" })), 120000);
      const d = armDelayMs(input({ attempt: 3, headers: { "x-ms-ratelimit-remaining-resource": "A;30,B;5500" } }));
      assert.ok(d >= 60000, `${d} ms`);
    });

    it("makes a fault's backoff the period when it is longer, so the fleet's next update scales what it sees", () => {
      const out = armPoll(input({ reason: "forbidden", attempt: 8, headers: reads(200), pace: busy(5000, 200) }));
      assert.ok(out.pace.periodMs >= 15000, `${out.pace.periodMs} ms`);
    });

    it("lands a fleet of W instances reading their state on 25 reads/s, whatever W: the period converges to W/25 s", () => {
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
          const out = armPoll(
            input({ attempt: 100, elapsedMs: t, headers: reads(Math.floor(bucket)), random: 0, pace }),
          );
          pace = out.pace;
          period = pace.periodMs;
        }
        const want = Math.min(MAX_PERIOD_MS, Math.max(VM_STEADY_MS, (w / 25) * 1000));
        assert.ok(Math.abs(period - want) / want < 0.1, `W=${w}: period ${period} ms, want ≈ ${want} ms`);
      }
    });

    it("ends the fast phase for good once the fleet is busy", () => {
      const out = armPoll(input({ attempt: 2, headers: reads(200) }));
      assert.equal(out.pace.busy, true);
      const later = armPoll(input({ attempt: 3, headers: reads(249), elapsedMs: 6000, pace: out.pace }));
      assert.ok(later.delayMs >= VM_STEADY_MS, `${later.delayMs} ms`);
    });
  });
});
