/**
 * The poll policy: how long to wait before the next ARM read. Pure: the core hands back, with
 * every answer, the small state (`Pace`) the previous call returned, and gets the next one.
 * Whatever it returns, the core adds two hard rules of its own: it never calls before a
 * Retry-After has elapsed (context.ts `sendAt`, the one place, with 0-1 s of jitter on top
 * from retryAfterWithJitterMs below), and it never waits past the deadline. Tuned with the
 * fleet simulation (`npm run bench:fleet`, scripts/fleet).
 *
 * ## Budgets (documented; constants.ts cites each)
 * - Compute "Get VMSS VMs", per VM: 36, refilled 12/min (one token per 5 s). This VM's alone:
 *   the floors below keep to it.
 * - Shared by a fleet that no instance can count: ARM reads per principal (250, +25/s: one
 *   scale set), per subscription (3,750, +375/s: every scale set), and Compute "Get VMSS VMs"
 *   per subscription (6,000, +2,000/min). fleetPace.ts turns their counts into the period P.
 * The agent never reads the scale set, so Compute's "Low Cost Get VMSS" buckets are never touched.
 *
 * ## One VM (every shared bucket stays full: one VM cannot dent them)
 * - First read: as soon as the token is at hand (the core does not ask the policy for it).
 * - Fast phase: reads 1..24 of the VM 1.0-1.15 s apart, only while every answer so far showed
 *   the shared buckets full. 24 tokens go in ≥ 23 s while 4.6 come back: the VM's bucket
 *   bottoms out at ≈ 16.6, never below 12, a reserve for a 401 retry and faults.
 *   Succeeded is seen ≤ 1.15 s after it happens (≈ 0.55 s on average).
 * - Then a period of at least 5 s (the per-VM refill) + 0-15 % jitter: the VM's bucket never
 *   falls again however long Creating lasts (an hour is ≤ 720 reads, at most 12/min).
 *
 * ## Waiting for the kept file (--kept-file, and the file does not hold this VM's vmId yet)
 * Reads then only need to see Deleting (an overprovisioned extra being culled) within 10 s: a
 * period of at least PROOF_WAIT_MS = 8 s + 0-15 % jitter, so ≤ 9.2 s, leaving 0.8 s for the
 * answer. 8 s is above the per-VM refill (5 s), so the VM's bucket never falls while it waits,
 * and those reads do not count towards the fast phase's 24. When the rules conflict, the
 * budgets win over the 10 s: a Retry-After (the core's hard floor), the 429 back-off and the
 * fleet's period P can each make a wait longer; 10 s bounds only the VM's own choice. Every
 * waiter, with the file or without, takes the same share P of the fleet's budget.
 * The core watches the file meanwhile (keptFile.ts). When it appears before ARM's Succeeded the
 * extension is running, so Succeeded is near: the next read goes at once while the fleet is
 * idle (afterProof; in a busy fleet it stays the next paced read, since N kept VMs may
 * see their files within seconds of one another), and the fast phase starts then, the VM's
 * bucket full.
 *
 * ## The fleet: P from the shared counts (fleetPace.ts has the arithmetic)
 * Every wait is at least P: the fleet lands on 90 % of the binding bucket's refill, P = W/(0.9·ρ)
 * for W instances drawing on it (44 s for one scale set of 1,000), and Succeeded waits P/2 on
 * average. A newcomer to a busy fleet waits its first P × 0.5-1.5 (its first P comes from the
 * levels alone, and instances that boot together would otherwise come back together). A 429
 * doubles P. When Compute's subscription bucket drains (several scale sets at once), every
 * period is at least fleetPace.ts's drain floor, and PROOF_DRAIN_MS while the kept file is absent.
 * A fault's backoff, when longer than P, becomes P: the fleet's counts measure the spacing it
 * actually keeps, so the next update must scale that.
 *
 * ## Faults, n = consecutive failed reads (≥ 1), jittered ×0.8-1.2, never below P
 * (Which answers are faults, and which end the wait, is retryTable.ts.)
 * - 429 with Retry-After → Retry-After + 0-1 s (a fleet throttled together must not return
 *   together; the core enforces it); without → 5 s × 2^(n−1), at most 60 s.
 * - 403 (RBAC propagation, up to 10 min) → 2 s × 1.6^(n−1), at most 15 s (~45 reads in 10 min),
 *   and P when the 403 carries ARM's counts: a first deployment's whole fleet reads 403 until
 *   RBAC lands, then each waiter reads once more and is done.
 * - 5xx, 408, reset, hung request, an undocumented status → 1 s × 2^(n−1), at most 30 s.
 * - This VM's Compute count below 12 → at least 5 s × 12 / (count + 1) (count 0 → 60 s).
 * - IMDS (a local service limited to 5 requests/s; its 410 may last 70 s):
 *   1 s × 1.5^(n−1), at most 5 s, so IMDS coming back is noticed within 6 s; a Retry-After
 *   goes through the same gate as ARM's.
 */
import { belowFull, drainFloorMs, nextPace, readCounts } from "./fleetPace";
import type { Pace } from "./fleetPace";

export { MAX_PERIOD_MS, drainFloorMs, fleetRatePerS, nextPace, readCounts, targetRatePerS } from "./fleetPace";
export type { Counts, Pace } from "./fleetPace";

/** Why the policy is asked: a 200 with a state that is not final yet, or a fault (retryTable.ts's verdict). */
export type ArmReason = "state" | "throttled" | "forbidden" | "transient";

export interface ArmPollInput {
  reason: ArmReason;
  /**
   * For "state": reads answered 200 outside the kept-file wait so far (the fast phase's count;
   * 0 while waiting for the kept file). Otherwise: consecutive failed ARM reads (≥ 1).
   */
  attempt: number;
  /** --kept-file, and the file does not hold this VM's vmId yet: reads need only see Deleting within 10 s. */
  awaitingProof: boolean;
  /** Milliseconds since the first ARM read of this run, at this answer. */
  elapsedMs: number;
  /** Headers (lower-case names) of the last ARM response; {} after a network error. */
  headers: Record<string, string>;
  /**
   * Whether the last response carried a Retry-After (the core enforces it: context.ts sendAt).
   * Then a 429 gets no back-off of its own, as in azure-sdk's throttlingRetryStrategy.
   */
  retryAfter: boolean;
  /** Uniform in [0, 1). */
  random: number;
  /** What the previous call returned as `pace`; absent on the first answer. */
  pace?: Pace;
}

export interface ArmPoll {
  delayMs: number;
  pace: Pace;
}

export interface ImdsRetryInput {
  /** Consecutive failed IMDS requests (≥ 1). */
  attempt: number;
  /** Uniform in [0, 1). */
  random: number;
}

/** Reads of the VM spent fast right after boot (out of its Compute bucket of 36). */
export const VM_FAST_READS = 24;
const VM_FAST_MS = 1000;
/** One token per 5 s is the per-VM Compute refill (12/min): the period floor after the fast phase. */
export const VM_STEADY_MS = 5000;
/**
 * The period floor while waiting for the kept file: × (1 + JITTER) = 9.2 s, so Deleting is seen
 * within 10 s with 0.8 s left for the answer; above VM_STEADY_MS, so the VM's bucket never falls.
 */
export const PROOF_WAIT_MS = 8000;
/**
 * The period floor while waiting for the kept file when Compute's subscription bucket drains
 * (fleetPace.ts drainFloorMs): those reads only look for Deleting, an extra is powered off within
 * a minute of it anyway, and the budget wins.
 */
export const PROOF_DRAIN_MS = 300000;
/**
 * A wait is the period × (1 + this × random): never shorter than the period. A newcomer to a
 * busy fleet waits its first period × 0.5-1.5 instead: its first period comes from the level
 * alone, so instances that boot together would otherwise come back together.
 */
export const JITTER = 0.15;
/** Compute counts below this stretch the wait: a third of a 36-token bucket. */
const LOW_WATER = 12;
/** Added on top of every Retry-After, × random: a fleet throttled together must not return together. */
export const RETRY_AFTER_JITTER_MS = 1000;
const THROTTLED_BASE_MS = 5000;
const THROTTLED_CAP_MS = 60000;
const FORBIDDEN_BASE_MS = 2000;
const FORBIDDEN_FACTOR = 1.6;
const FORBIDDEN_CAP_MS = 15000;
const TRANSIENT_BASE_MS = 1000;
const TRANSIENT_CAP_MS = 30000;
const IMDS_BASE_MS = 1000;
const IMDS_FACTOR = 1.5;
const IMDS_CAP_MS = 5000;

/** ×0.8–1.2 */
function jitter(ms: number, random: number): number {
  return ms * (0.8 + 0.4 * random);
}

function backoff(base: number, factor: number, cap: number, attempt: number): number {
  return Math.min(cap, base * Math.pow(factor, Math.max(0, attempt - 1)));
}

/** The smallest `x-ms-ratelimit-remaining-*` count in the headers (Compute's policy lists included), or undefined. */
export function minRateLimitRemaining(headers: Record<string, string>): number | undefined {
  let min: number | undefined;
  for (const name of Object.keys(headers)) {
    if (name.indexOf("x-ms-ratelimit-remaining-") !== 0) continue;
    for (const part of headers[name].split(",")) {
      const m = /(?:^|;)\s*(\d+)\s*$/.exec(part);
      if (!m) continue;
      const n = parseInt(m[1], 10);
      if (min === undefined || n < min) min = n;
    }
  }
  return min;
}

/**
 * The shortest period: in a busy fleet, the per-VM refill (PROOF_WAIT_MS while waiting for the
 * kept file), whatever the answer; in an idle one, the fast floor for faults (whose own backoff
 * then rules) and for the first reads.
 */
function floorFor(reason: ArmReason, attempt: number, awaitingProof: boolean, busy: boolean, held: boolean): number {
  if (reason === "state" && awaitingProof) return PROOF_WAIT_MS;
  if (busy && !held) return VM_STEADY_MS;
  return reason === "state" && attempt >= VM_FAST_READS ? VM_STEADY_MS : VM_FAST_MS;
}

/** The wait before the next ARM read, and the pace to hand back with the next answer. */
export function armPoll(input: ArmPollInput): ArmPoll {
  const { reason, attempt, random, pace } = input;
  const counts = readCounts(input.headers, pace && pace.computePolicy);
  const busy = !!(pace && pace.busy) || belowFull(counts);
  const drain = drainFloorMs(counts);
  const floorMs = Math.max(
    floorFor(reason, attempt, input.awaitingProof, busy, !!(pace && pace.held)),
    drain,
    drain > 0 && input.awaitingProof && reason === "state" ? PROOF_DRAIN_MS : 0,
  );
  const profile = reason !== "state" ? "patient" : input.awaitingProof ? "proof" : "eager";
  const next = nextPace(
    pace,
    counts,
    input.elapsedMs,
    floorMs,
    reason === "throttled",
    reason === "forbidden",
    profile,
  );
  let spacing = 0;
  switch (reason) {
    case "throttled":
      // With a Retry-After the core's gate waits it out (+ jitter); without one, back off.
      if (!input.retryAfter) spacing = backoff(THROTTLED_BASE_MS, 2, THROTTLED_CAP_MS, attempt);
      break;
    case "forbidden":
      spacing = backoff(FORBIDDEN_BASE_MS, FORBIDDEN_FACTOR, FORBIDDEN_CAP_MS, attempt);
      break;
    case "transient":
      spacing = backoff(TRANSIENT_BASE_MS, 2, TRANSIENT_CAP_MS, attempt);
      break;
    case "state":
      break;
    default: {
      const never: never = reason;
      throw new Error(`unknown reason ${never}`);
    }
  }
  // The period is the spacing the fleet sees: when a backoff is longer, the next update scales that.
  next.periodMs = Math.max(next.periodMs, spacing);
  const periodMs = next.periodMs;
  let delay = !pace && busy ? Math.max(floorMs, periodMs * (0.5 + random)) : periodMs * (1 + JITTER * random);
  if (spacing > 0) delay = Math.max(delay, jitter(spacing, random));
  if (counts.vm !== undefined && counts.vm < LOW_WATER)
    delay = Math.max(delay, (VM_STEADY_MS * LOW_WATER) / (counts.vm + 1));
  return { delayMs: Math.round(delay), pace: next };
}

/** Milliseconds to wait before the next ARM read, for a caller that keeps no pace (the first answer's view). */
export function armDelayMs(input: ArmPollInput): number {
  return armPoll(input).delayMs;
}

/**
 * The kept file has just appeared before ARM's Succeeded: the extension runs, so Succeeded is
 * near. While the fleet is idle the next read goes now and the period restarts at the fast
 * floor (the VM's bucket is full: the waiting reads were slower than its refill). In a busy
 * fleet whose period is still under the kept-file wait's (it has room: the waiting reads were
 * the slow ones), the same, at half the period: the VM spends its own burst, within the fleet's
 * share (held). In a saturated fleet nothing changes: N kept VMs seeing their files together
 * must not double the fleet's rate (bench: N = 100 overprovisioned, 2.2× the bound without it).
 */
export function afterProof(pace: Pace | undefined): { readNow: boolean; pace: Pace | undefined } {
  if (pace && pace.busy) {
    if (pace.periodMs > PROOF_WAIT_MS) return { readNow: false, pace };
    return { readNow: true, pace: { ...pace, periodMs: Math.max(VM_FAST_MS, pace.periodMs / 2), held: true } };
  }
  return { readNow: true, pace: pace && { ...pace, periodMs: VM_FAST_MS } };
}

/** Milliseconds to wait before retrying IMDS (instance metadata or the identity token); a Retry-After is the core's. */
export function imdsDelayMs(input: ImdsRetryInput): number {
  return Math.round(jitter(backoff(IMDS_BASE_MS, IMDS_FACTOR, IMDS_CAP_MS, input.attempt), input.random));
}

/** A Retry-After as the core enforces it: never earlier, 0-1 s later (× random). */
export function retryAfterWithJitterMs(retryAfterMs: number, random: number): number {
  return retryAfterMs + RETRY_AFTER_JITTER_MS * random;
}
