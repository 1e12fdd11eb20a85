/**
 * The poll policy's documented formulas, number for number (pollPolicy.ts's header states each
 * one). agent-policy.spec.ts holds the contract they serve (budgets, bounds, convergence); this
 * file holds the formulas themselves, so that retuning one means changing its doc line and the
 * matching line here, on purpose.
 */
import { strict as assert } from "assert";
import {
  armDelayMs,
  armPoll,
  fleetRatePerS,
  firstPeriodMs,
  imdsDelayMs,
  minRateLimitRemaining,
  nextPeriodMs,
  PROOF_WAIT_MS,
  retryAfterWithJitterMs,
  targetRatePerS,
  VM_FAST_READS,
  VM_STEADY_MS,
} from "../agent/src/core/pollPolicy";
import type { ArmPollInput, Pace } from "../agent/src/core/pollPolicy";

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

const reads = (n: number) => ({ "x-ms-ratelimit-remaining-subscription-reads": String(n) });
const compute = (n: number) => ({ "x-ms-ratelimit-remaining-resource": `Microsoft.Compute/GetVMScaleSetVM3Min;${n}` });
const busy = (periodMs: number, remaining: number, atMs = 0): Pace => ({ periodMs, remaining, atMs, busy: true });

describe("agent poll policy: the documented formulas (pollPolicy.ts)", () => {
  describe("faults: n consecutive failures, jittered ×0.8-1.2, never below the period", () => {
    const delays = (reason: ArmPollInput["reason"], retryAfter = false) =>
      [1, 2, 3, 4, 5, 6].map((attempt) => armDelayMs(input({ reason, attempt, retryAfter })));

    it("5xx, 408, resets and hangs: 1 s × 2^(n−1), at most 30 s (n = 1 is the 1 s period × 1.075)", () => {
      assert.deepEqual(delays("transient"), [1075, 2000, 4000, 8000, 16000, 30000]);
    });

    it("403 while RBAC propagates: 2 s × 1.6^(n−1), at most 15 s", () => {
      assert.deepEqual(delays("forbidden"), [2000, 3200, 5120, 8192, 13107, 15000]);
    });

    it("429 without Retry-After: 5 s × 2^(n−1), at most 60 s; with one, only the doubled period (the gate adds the rest)", () => {
      assert.deepEqual(delays("throttled"), [5000, 10000, 20000, 40000, 60000, 60000]);
      assert.deepEqual(delays("throttled", true), [2150, 2150, 2150, 2150, 2150, 2150]);
    });

    it("jitters the back-off ×0.8 to ×1.2 over random 0..1", () => {
      assert.deepEqual(
        [0, 0.5, 1].map((random) => armDelayMs(input({ reason: "transient", attempt: 5, random }))),
        [12800, 16000, 19200],
      );
    });

    it("keeps the 1 s fault floor while waiting for the kept file, whose reads of a state go every 8 s", () => {
      assert.equal(armDelayMs(input({ reason: "transient", awaitingProof: true })), 1075);
      assert.equal(armDelayMs(input({ awaitingProof: true })), Math.round(PROOF_WAIT_MS * 1.075));
    });

    it("doubles the period on a 429, with or without Retry-After", () => {
      const out = armPoll(input({ reason: "throttled", retryAfter: true, pace: busy(10000, 200) }));
      assert.deepEqual(out, { delayMs: 21500, pace: busy(20000, 200) });
    });
  });

  it("IMDS: 1 s × 1.5^(n−1), at most 5 s, jittered ×0.8-1.2", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((attempt) => imdsDelayMs({ attempt, random: 0.5 })),
      [1000, 1500, 2250, 3375, 5000, 5000],
    );
    assert.deepEqual(
      [0, 1].map((random) => imdsDelayMs({ attempt: 1, random })),
      [800, 1200],
    );
  });

  it("a Retry-After as enforced: the wait plus 0-1 s × random", () => {
    assert.deepEqual(
      [0, 0.5, 0.999].map((r) => retryAfterWithJitterMs(7000, r)),
      [7000, 7500, 7999],
    );
  });

  it("a Compute count below 12 stretches the wait to at least 5 s × 12 / (count + 1); 12 and above change nothing", () => {
    assert.deepEqual(
      [0, 4, 5, 11, 12, 36].map((n) => armDelayMs(input({ headers: compute(n) }))),
      [60000, 12000, 10000, 5000, 1075, 1075],
    );
    // The principal's count is not Compute's: it does not stretch the wait this way.
    assert.ok(armDelayMs(input({ headers: reads(0), pace: busy(5000, 0) })) < 60000);
  });

  it("reads 1..24 fast (1 s period), the 24th answer and later at the per-VM refill (5 s)", () => {
    assert.equal(VM_FAST_READS, 24);
    assert.equal(armDelayMs(input({ attempt: VM_FAST_READS - 1 })), 1075);
    assert.equal(armDelayMs(input({ attempt: VM_FAST_READS })), Math.round(VM_STEADY_MS * 1.075));
  });

  describe("the fleet's period", () => {
    it("counts the principal's bucket full at 245 reads left or more: no rate from two full counts", () => {
      assert.equal(fleetRatePerS(245, 245, 1000), undefined);
      assert.equal(fleetRatePerS(245, 244, 1000), 26);
      assert.equal(fleetRatePerS(244, 245, 1000), 24);
      assert.deepEqual(armPoll(input({ headers: reads(245) })).pace.busy, false);
      assert.deepEqual(armPoll(input({ headers: reads(244) })).pace.busy, true);
    });

    it("rates over at least 1 ms, and at least 1 read/s", () => {
      assert.equal(Math.round(fleetRatePerS(125, 100, 0)!), 25025);
      assert.equal(fleetRatePerS(100, 200, 1000), 1);
    });

    it("aims at λ* = 25 + (r − 125) / max(10 s, P)", () => {
      assert.deepEqual(
        [targetRatePerS(125, 5000), targetRatePerS(225, 5000), targetRatePerS(25, 40000)],
        [25, 35, 22.5],
      );
    });

    it("starts a newcomer at floor × 12^((245 − r)/245), r clamped to 0..245", () => {
      assert.deepEqual(
        [245, 0, 300, -5].map((r) => firstPeriodMs(r, 1000)),
        [1000, 12000, 1000, 12000],
      );
      assert.equal(Math.round(firstPeriodMs(122.5, 1000)), Math.round(1000 * Math.sqrt(12)));
    });

    it("gives a newcomer to a busy fleet a first wait of its period × 0.5-1.5, never below the floor", () => {
      const period = firstPeriodMs(100, VM_STEADY_MS);
      assert.deepEqual(
        [0, 0.5, 0.999].map((random) => armPoll(input({ headers: reads(100), random })).delayMs),
        [0.5, 1, 1.499].map((f) => Math.round(period * f)),
      );
    });

    it("measures the rate over the time between the two answers, whenever they came", () => {
      assert.equal(nextPeriodMs(busy(10000, 125, 10000), 75, 20000, VM_STEADY_MS, false), 15000);
    });

    it("never shrinks the period with under 25 reads left, and may at 25", () => {
      assert.equal(nextPeriodMs(busy(100000, 0), 24, 1000, VM_STEADY_MS, false), 100000);
      assert.equal(nextPeriodMs(busy(100000, 0), 25, 1000, VM_STEADY_MS, false), 50000);
    });

    it("without a count keeps the period (or the floor), and the last count and its time for the next answer", () => {
      assert.equal(nextPeriodMs(busy(20000, 100), undefined, 20000, VM_STEADY_MS, false), 20000);
      assert.equal(nextPeriodMs(undefined, undefined, 0, VM_STEADY_MS, false), VM_STEADY_MS);
      assert.equal(nextPeriodMs(undefined, undefined, 0, VM_STEADY_MS, true), 2 * VM_STEADY_MS);
      assert.deepEqual(armPoll(input({ headers: {}, pace: busy(20000, 100, 5000) })).pace, busy(20000, 100, 5000));
    });

    it("treats a pace without a count or its time as a newcomer's", () => {
      const first = Math.round(firstPeriodMs(100, VM_STEADY_MS));
      assert.equal(Math.round(nextPeriodMs({ periodMs: 20000 }, 100, 0, VM_STEADY_MS, false)), first);
      assert.equal(Math.round(nextPeriodMs({ periodMs: 20000, remaining: 100 }, 100, 0, VM_STEADY_MS, false)), first);
    });
  });

  it("reads a rate-limit count only as the last number of a part", () => {
    assert.equal(minRateLimitRemaining({ "x-ms-ratelimit-remaining-resource": "Policy;12abc" }), undefined);
    assert.equal(minRateLimitRemaining({ "x-ms-ratelimit-remaining-resource": "Policy;12 x" }), undefined);
  });
});
