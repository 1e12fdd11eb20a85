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
  imdsDelayMs,
  minRateLimitRemaining,
  nextPace,
  PROOF_WAIT_MS,
  readCounts,
  retryAfterWithJitterMs,
  VM_FAST_READS,
  VM_STEADY_MS,
} from "../agent/src/core/pollPolicy";
import type { ArmPollInput, Pace } from "../agent/src/core/pollPolicy";
import { pollInput } from "../testkit/pollInput";
import { ARM_READS_PER_PRINCIPAL } from "../agent/src/core/constants";

const input = pollInput;

const reads = (n: number) => ({ "x-ms-ratelimit-remaining-subscription-reads": String(n) });
const compute = (n: number) => ({ "x-ms-ratelimit-remaining-resource": `Microsoft.Compute/GetVMScaleSetVM3Min;${n}` });
const busy = (periodMs: number, remaining: number, atMs = 0): Pace => ({
  periodMs,
  seen: [[remaining, atMs], undefined, undefined],
  busy: true,
  computePolicy: undefined,
  held: false,
});
/** A newcomer's first period: its pace from the principal's count `remaining` alone. */
const firstPeriodMs = (remaining: number, floorMs: number) =>
  nextPace(undefined, { shared: [remaining, undefined, undefined] }, 0, floorMs, false).periodMs;
/** The next period after an answer that reported `remaining` of the principal's reads (or nothing). */
const nextPeriodMs = (
  prev: Pace | undefined,
  remaining: number | undefined,
  atMs: number,
  floorMs: number,
  throttled: boolean,
) => nextPace(prev, readCounts(remaining === undefined ? {} : reads(remaining)), atMs, floorMs, throttled).periodMs;

describe("agent poll policy: the documented formulas (pollPolicy.ts)", () => {
  describe("faults: n consecutive failures; the backoff becomes the period, so the wait is backoff × (1 + 0.15 × random), at least backoff × (0.8 + 0.4 × random)", () => {
    const delays = (reason: ArmPollInput["reason"], retryAfter = false) =>
      [1, 2, 3, 4, 5, 6].map((attempt) => armDelayMs(input({ reason, attempt, retryAfter })));

    it("5xx, 408, resets and hangs: 1 s × 2^(n−1), at most 30 s (× 1.075 at random 0.5)", () => {
      assert.deepEqual(delays("transient"), [1075, 2150, 4300, 8600, 17200, 32250]);
    });

    it("403 while RBAC propagates: 2 s × 1.6^(n−1), at most 15 s (× 1.075)", () => {
      assert.deepEqual(delays("forbidden"), [2150, 3440, 5504, 8806, 14090, 16125]);
    });

    it("429 without Retry-After: 5 s × 2^(n−1), at most 60 s (× 1.075); with one, only the doubled period (the gate adds the rest)", () => {
      assert.deepEqual(delays("throttled"), [5375, 10750, 21500, 43000, 64500, 64500]);
      assert.deepEqual(delays("throttled", true), [2150, 2150, 2150, 2150, 2150, 2150]);
    });

    it("jitters the back-off ×1 to ×1.2 over random 0..1 (the larger of the period's and the back-off's own jitter)", () => {
      assert.deepEqual(
        [0, 0.5, 1].map((random) => armDelayMs(input({ reason: "transient", attempt: 5, random }))),
        [16000, 17200, 19200],
      );
    });

    it("keeps the 1 s fault floor while waiting for the kept file, whose reads of a state go every 8 s", () => {
      assert.equal(armDelayMs(input({ reason: "transient", awaitingProof: true })), 1075);
      assert.equal(armDelayMs(input({ awaitingProof: true })), Math.round(PROOF_WAIT_MS * 1.075));
    });

    it("doubles the period on a 429, with or without Retry-After", () => {
      const out = armPoll(input({ reason: "throttled", retryAfter: true, pace: busy(10000, 200) }));
      assert.deepEqual([out.delayMs, out.pace.periodMs, out.pace.seen], [21500, 20000, busy(10000, 200).seen]);
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
      assert.equal(fleetRatePerS(ARM_READS_PER_PRINCIPAL, 245, 245, 1000), undefined);
      assert.equal(fleetRatePerS(ARM_READS_PER_PRINCIPAL, 245, 244, 1000), 26);
      assert.equal(fleetRatePerS(ARM_READS_PER_PRINCIPAL, 244, 245, 1000), 24);
      assert.deepEqual(armPoll(input({ headers: reads(245) })).pace.busy, false);
      assert.deepEqual(armPoll(input({ headers: reads(244) })).pace.busy, true);
    });

    it("rates over at least 1 ms, and at least 1 read/s", () => {
      assert.equal(Math.round(fleetRatePerS(ARM_READS_PER_PRINCIPAL, 125, 100, 0)!), 25025);
      assert.equal(fleetRatePerS(ARM_READS_PER_PRINCIPAL, 100, 200, 1000), 1);
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

    it("measures the rate over the time between the two answers, whenever they came: 30/s against 25 + (75 − 100)/10 = 22.5/s is ×4/3", () => {
      assert.equal(Math.round(nextPeriodMs(busy(10000, 125, 10000), 75, 20000, VM_STEADY_MS, false)), 13333);
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
      const unseen: Pace = { periodMs: 20000, seen: [undefined, undefined, undefined], busy: true };
      assert.equal(Math.round(nextPeriodMs(unseen, 100, 0, VM_STEADY_MS, false)), first);
    });
  });

  it("while RBAC propagates, holds the subscription's rate to Compute's refill plus 80 % of its burst over the period", () => {
    // 375 reads/s on the subscription over 100 s: ARM's patient target (225 + 600/100) asks ×1.62;
    // Compute's (33.3 + 0.8 × 6,000 / 100 = 81.3/s) asks ×4.6, clamped to ×2. Only a 403 applies the second.
    const prev: Pace = { periodMs: 100000, seen: [undefined, [3600, 0], undefined], busy: true };
    const headers = { "x-ms-ratelimit-remaining-subscription-global-reads": "3600" };
    const period = (reason: ArmPollInput["reason"]) =>
      Math.round(armPoll(input({ reason, elapsedMs: 100000, headers, pace: prev })).pace.periodMs);
    assert.deepEqual([period("forbidden"), period("transient")], [200000, 162338]);
  });

  it("reads whole counts only; Compute's subscription entry is the largest above 36, this VM's the smallest other", () => {
    const counts = readCounts({
      "x-ms-ratelimit-remaining-subscription-reads": " 120 ",
      "x-ms-ratelimit-remaining-subscription-global-reads": "12x",
      "x-ms-ratelimit-remaining-resource":
        " Microsoft.Compute/PerVm ; 30 ,Microsoft.Compute/Other;20, Microsoft.Compute/SubA;4000,Microsoft.Compute/SubB;5000 ,Bad;7x",
    });
    assert.deepEqual(counts, { shared: [120, undefined, 5000], computePolicy: "Microsoft.Compute/SubB", vm: 20 });
    // Once named, the subscription entry is followed by name, even at 30; the other entry is then this VM's.
    assert.deepEqual(readCounts({ "x-ms-ratelimit-remaining-resource": "A;30,B;5000" }, "A"), {
      shared: [undefined, undefined, 30],
      computePolicy: "A",
      vm: 5000,
    });
  });

  it("reads a rate-limit count only as the last number of a part", () => {
    assert.equal(minRateLimitRemaining({ "x-ms-ratelimit-remaining-resource": "Policy;12abc" }), undefined);
    assert.equal(minRateLimitRemaining({ "x-ms-ratelimit-remaining-resource": "Policy;12 x" }), undefined);
  });
});
