/**
 * The poll policy: how long to wait before the next ARM read. Pure: the core hands back, with
 * every answer, the small state (`Pace`) the previous call returned, and gets the next one.
 * Whatever it returns, the core adds two hard rules of its own: it never calls before a
 * Retry-After has elapsed (context.ts `sendAt`, the one place, with 0-1 s of jitter on top
 * from retryAfterWithJitterMs below), and it never waits past the deadline. Tuned with the
 * fleet simulation (issue 7, `npm run bench:fleet`).
 *
 * ## Budgets (documented)
 * - Compute "Get VMSS VMs": per VM, a bucket of 36 refilled at 12/min (one token per 5 s),
 *   plus 6,000/2,000 per minute per subscription.
 *   https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits
 * - ARM reads: per principal per subscription, a bucket of 250 refilled at 25/s. Every VM of a
 *   scale set shares it: they use the set's one system-assigned identity.
 *   https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 * Two headers carry them, parsed generically (any count under those names):
 * `x-ms-ratelimit-remaining-subscription-reads` (the principal's bucket: what the whole fleet
 * has left; call it r) and `x-ms-ratelimit-remaining-resource` (Compute's, "Policy;count,...").
 * The agent never reads the scale set, so Compute's per-scale-set bucket is never touched.
 *
 * ## One VM (r stays ≥ 245: one VM cannot dent 25/s)
 * - First read: as soon as the token is at hand (the core does not ask the policy for it).
 * - Fast phase: reads 1..24 of the VM 1.0-1.15 s apart, only while every answer so far showed
 *   the principal's bucket full. 24 tokens go in ≥ 23 s while 4.6 come back: the VM's bucket
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
 * fleet's period P below can each make a wait longer; 10 s bounds only the VM's own choice.
 * The core watches the file meanwhile (keptFile.ts). When it appears before ARM's Succeeded the
 * extension is running, so Succeeded is near: the next read goes at once while the fleet is
 * idle (afterProof; in a busy fleet it stays the next paced read, since N kept VMs may
 * see their files within seconds of one another), and the fast phase starts then, the VM's
 * bucket full.
 *
 * ## The fleet (W instances share 25 reads/s; none of them knows W)
 * Each instance keeps a period P (floor 5 s, or 8 s while waiting for the kept file; ceiling
 * 120 s: 120 s × 25/s = 3,000 instances, enough for N = 2,000 plus 20 % overprovisioned extras
 * all waiting at once). Its own answers tell it the fleet's rate over its last
 * period: the bucket went from r₀ to r in dt while the
 * refill added 25·dt, so the fleet made λ = (r₀ − r + 25·dt)/dt reads per second. It then sets
 *     P ← P × λ / λ*,   λ* = 25 + (r − 125) / max(10 s, P),
 * clamped to ×0.5..×2 per step. Every instance scales its own rate by the same factor λ* ÷ λ, so the
 * fleet's rate lands on λ* whatever W is (and however the periods differ); λ* itself is the
 * refill, nudged to bring the bucket back to half full over the next period. At equilibrium
 * λ = 25/s and W/P = 25, so P = W/25 and Succeeded waits P/2 = W/50 s on average: the budgets'
 * bound (scripts/fleet/bound.ts), e.g. 20 s at W = 1,000 and 40 s at W = 2,000.
 * Special cases, each for a reason:
 * - The bucket full at both ends (r₀, r ≥ 245): it may have overflowed, so λ is unknown but
 *   below 25: P × 0.5.
 * - r < 25 (one second of refill): the bucket may have run dry in between, and refused calls
 *   do not show in λ, so P never shrinks there.
 * - A 429: P × 2, and the wait is at least Retry-After + 0-1 s.
 * - A newcomer has one count and no rate: P = floor × 12^((245 − r)/245), from the floor at a
 *   full bucket to 12 × the floor at an empty one (60 s; 96 s while waiting for the kept file),
 *   and its first wait is P × 0.5-1.5 (the level moves, and instances that boot while it is low
 *   would otherwise all come back at once, 60 s later); its second answer gives it a rate.
 *
 * ## Faults, n = consecutive failed reads (≥ 1), jittered ×0.8-1.2, never below P
 * (Which answers are faults, and which end the wait, is retryTable.ts.)
 * - 429 with Retry-After → Retry-After + 0-1 s (a fleet throttled together must not return
 *   together; the core enforces it); without → 5 s × 2^(n−1), at most 60 s.
 * - 403 (RBAC propagation, up to 10 min) → 2 s × 1.6^(n−1), at most 15 s (~45 reads in 10 min).
 * - 5xx, 408, reset, hung request, an undocumented status → 1 s × 2^(n−1), at most 30 s.
 * - A Compute count below 12 → at least 5 s × 12 / (count + 1) (count 0 → 60 s).
 * - IMDS (a local service limited to 5 requests/s; its 410 may last 70 s):
 *   1 s × 1.5^(n−1), at most 5 s, so IMDS coming back is noticed within 6 s; a Retry-After
 *   goes through the same gate as ARM's.
 */

/** Why the policy is asked: a 200 with a state that is not final yet, or a fault (retryTable.ts's verdict). */
export type ArmReason = "state" | "throttled" | "forbidden" | "transient";

/** The policy's memory from one ARM answer to the next; the core stores it and hands it back. */
export interface Pace {
  /** This instance's pacing period: its share of the fleet's reads. */
  periodMs: number;
  /** The principal's reads left at the last answer that said. */
  remaining?: number;
  /** elapsedMs of that answer. */
  atMs?: number;
  /** Set once an answer showed the principal's bucket below full: the fast phase is over for good. */
  busy?: boolean;
}

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
/** The longest period: 120 s × 25 reads/s = 3,000 instances, all waiting, fit in the principal's refill. */
export const MAX_PERIOD_MS = 120000;
/**
 * A wait is the period × (1 + this × random): never shorter than the period. A newcomer to a
 * busy fleet waits its first period × 0.5-1.5 instead: its first period comes from the level
 * alone, so instances that boot together would otherwise come back together.
 */
export const JITTER = 0.15;
/** The principal's refill: ARM reads, 25/s per principal per subscription (the doc cited above). */
const PRINCIPAL_REFILL_PER_S = 25;
/** Reads left at or above which the principal's bucket (250) counts as full, a few reads in flight allowed for. */
const PRINCIPAL_FULL = 245;
/** Below this many reads left (one second of refill) the bucket may have run dry since the last answer. */
const PRINCIPAL_LOW = 25;
/** The level the fleet steers the principal's bucket to: half of 250, room both ways. */
const PRINCIPAL_SETPOINT = 125;
/** The shortest horizon over which the fleet brings the bucket back to the setpoint. */
const SETPOINT_MIN_S = 10;
/** One update changes the period by at most this factor either way. */
const MAX_STEP = 2;
/** A newcomer's first period spans floor..floor × this: one count says how full the bucket is, not how many share it. */
const FIRST_SPAN = 12;
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

const RESOURCE_HEADER = "x-ms-ratelimit-remaining-resource";

/** ×0.8–1.2 */
function jitter(ms: number, random: number): number {
  return ms * (0.8 + 0.4 * random);
}

function backoff(base: number, factor: number, cap: number, attempt: number): number {
  return Math.min(cap, base * Math.pow(factor, Math.max(0, attempt - 1)));
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** The smallest count among the `x-ms-ratelimit-remaining-*` headers that `pick` accepts, or undefined. */
function smallestRemaining(headers: Record<string, string>, pick: (name: string) => boolean): number | undefined {
  let min: number | undefined;
  for (const name of Object.keys(headers)) {
    if (name.indexOf("x-ms-ratelimit-remaining-") !== 0 || !pick(name)) continue;
    for (const part of headers[name].split(",")) {
      const m = /(?:^|;)\s*(\d+)\s*$/.exec(part);
      if (!m) continue;
      const n = parseInt(m[1], 10);
      if (min === undefined || n < min) min = n;
    }
  }
  return min;
}

/** The smallest `x-ms-ratelimit-remaining-*` count in the headers, or undefined when there is none. */
export function minRateLimitRemaining(headers: Record<string, string>): number | undefined {
  return smallestRemaining(headers, () => true);
}

/**
 * Reads per second the whole fleet made between two answers of this instance: the bucket fell
 * by (before − after) while the refill put back 25/s × dt. Undefined when the bucket was full at
 * both ends (it may have overflowed in between, so the count says only "under 25/s").
 */
export function fleetRatePerS(before: number, after: number, dtMs: number): number | undefined {
  if (before >= PRINCIPAL_FULL && after >= PRINCIPAL_FULL) return undefined;
  const dt = Math.max(dtMs, 1) / 1000;
  return Math.max(before - after + PRINCIPAL_REFILL_PER_S * dt, 1) / dt;
}

/** The fleet rate to aim at: the refill, plus what brings the bucket back to half full over the next period. */
export function targetRatePerS(remaining: number, periodMs: number): number {
  return PRINCIPAL_REFILL_PER_S + (remaining - PRINCIPAL_SETPOINT) / Math.max(SETPOINT_MIN_S, periodMs / 1000);
}

/** A newcomer's first period from one count: the floor at a full bucket, geometric up to FIRST_SPAN × floor at an empty one. */
export function firstPeriodMs(remaining: number, floorMs: number): number {
  const empty = (PRINCIPAL_FULL - clamp(remaining, 0, PRINCIPAL_FULL)) / PRINCIPAL_FULL;
  return floorMs * Math.pow(FIRST_SPAN, empty);
}

/**
 * The next period from the previous pace and this answer's count of the principal's reads left
 * (undefined when the answer had none): P × λ/λ*, so that every instance scales its own rate by
 * the same factor and the fleet as a whole lands on λ*.
 */
export function nextPeriodMs(
  prev: Pace | undefined,
  remaining: number | undefined,
  atMs: number,
  floorMs: number,
  throttled: boolean,
): number {
  let period: number;
  if (remaining === undefined) period = prev ? prev.periodMs : floorMs;
  else if (!prev || prev.remaining === undefined || prev.atMs === undefined) period = firstPeriodMs(remaining, floorMs);
  else {
    const rate = fleetRatePerS(prev.remaining, remaining, atMs - prev.atMs);
    let factor = rate === undefined ? 1 / MAX_STEP : rate / targetRatePerS(remaining, prev.periodMs);
    if (remaining < PRINCIPAL_LOW) factor = Math.max(1, factor);
    period = prev.periodMs * clamp(factor, 1 / MAX_STEP, MAX_STEP);
  }
  if (throttled) period = Math.max(period, (prev ? prev.periodMs : floorMs) * MAX_STEP);
  return clamp(period, floorMs, MAX_PERIOD_MS);
}

/**
 * The shortest period: the fast floor for faults (whose own backoff then rules); while waiting
 * for the kept file, PROOF_WAIT_MS; while the fleet has been idle, fast for the first reads;
 * the per-VM refill otherwise.
 */
function floorFor(reason: ArmReason, attempt: number, awaitingProof: boolean, busy: boolean): number {
  if (reason !== "state") return VM_FAST_MS;
  if (awaitingProof) return PROOF_WAIT_MS;
  if (busy) return VM_STEADY_MS;
  return attempt < VM_FAST_READS ? VM_FAST_MS : VM_STEADY_MS;
}

/** The wait before the next ARM read, and the pace to hand back with the next answer. */
export function armPoll(input: ArmPollInput): ArmPoll {
  const { reason, attempt, random, pace } = input;
  const principal = smallestRemaining(input.headers, (name) => name !== RESOURCE_HEADER);
  const compute = smallestRemaining(input.headers, (name) => name === RESOURCE_HEADER);
  const busy = !!(pace && pace.busy) || (principal !== undefined && principal < PRINCIPAL_FULL);
  const floorMs = floorFor(reason, attempt, input.awaitingProof, busy);
  const periodMs = nextPeriodMs(pace, principal, input.elapsedMs, floorMs, reason === "throttled");
  const next: Pace =
    principal === undefined
      ? { periodMs, remaining: pace && pace.remaining, atMs: pace && pace.atMs, busy }
      : { periodMs, remaining: principal, atMs: input.elapsedMs, busy };
  let delay = !pace && busy ? Math.max(floorMs, periodMs * (0.5 + random)) : periodMs * (1 + JITTER * random);
  switch (reason) {
    case "throttled":
      // With a Retry-After the core's gate waits it out (+ jitter); without one, back off.
      if (!input.retryAfter)
        delay = Math.max(delay, jitter(backoff(THROTTLED_BASE_MS, 2, THROTTLED_CAP_MS, attempt), random));
      break;
    case "forbidden":
      delay = Math.max(delay, jitter(backoff(FORBIDDEN_BASE_MS, FORBIDDEN_FACTOR, FORBIDDEN_CAP_MS, attempt), random));
      break;
    case "transient":
      delay = Math.max(delay, jitter(backoff(TRANSIENT_BASE_MS, 2, TRANSIENT_CAP_MS, attempt), random));
      break;
    case "state":
      break;
    default: {
      const never: never = reason;
      throw new Error(`unknown reason ${never}`);
    }
  }
  if (compute !== undefined && compute < LOW_WATER) delay = Math.max(delay, (VM_STEADY_MS * LOW_WATER) / (compute + 1));
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
 * fleet nothing changes: N kept VMs seeing their files together must not double the fleet's rate.
 */
export function afterProof(pace: Pace | undefined): { readNow: boolean; pace: Pace | undefined } {
  if (pace && pace.busy) return { readNow: false, pace };
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
