/**
 * The poll policy: how long to wait before the next read. Pure and self-contained; the fleet
 * simulation (issue 7, `npm run bench:fleet`) tuned it through its two exported functions,
 * whose signatures stay stable. Whatever they return, the core adds two hard rules of its
 * own: it never calls before a Retry-After has elapsed, and it never waits past the deadline.
 *
 * ## Budgets (documented)
 * - Compute "Get VMSS VMs": per VM, a bucket of 36 refilled at 12/min (one token per 5 s),
 *   plus 6,000/2,000 per minute per subscription. "Low Cost Get VMSS" (the scale set itself):
 *   36 refilled at 12/min per scale set, so shared by every instance that reads its parent.
 *   https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits
 * - ARM reads: per principal per subscription, a bucket of 250 refilled at 25/s. All VMs of a
 *   scale set share it: they use the set's one system-assigned identity.
 *   https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 *
 * ## Two signals in the headers, read apart
 * - `x-ms-ratelimit-remaining-subscription-reads` (and any other subscription/tenant count):
 *   the principal's bucket, i.e. what the whole fleet has left. Call it r (0-249 after a read).
 * - `x-ms-ratelimit-remaining-resource` ("Policy;count,..."): Compute's buckets; its smallest
 *   count is this VM's own bucket (or the scale set's, when reading the scale set).
 * Both are parsed generically (any count under those names), so renamed policies still work.
 *
 * ## Arithmetic for one VM (r stays at the top: a lone VM cannot dent 25/s)
 * - First read: as soon as the token is at hand (the core does not ask the policy for it).
 * - Fast phase, reads 1..24, only while the fleet is idle (r ≥ 245 or no header): 0.8-1.2 s
 *   apart. 24 tokens go in ≥ 23 × 0.8 = 18.4 s while 3.7 come back: the bucket bottoms out at
 *   ≈ 15.7, never below 12, a reserve for the overprovisioning re-read and a 401 retry.
 * - Steady phase: 5.0-5.75 s apart. Every gap ≥ 5 s refills ≥ 1 token, so the VM's bucket never
 *   falls again however long Creating lasts (an hour is ~670 reads, 11.1/min against 12/min).
 *   Succeeded is seen ≤ 5.75 s (2.7 s on average) after it happens.
 *
 * ## Arithmetic for the fleet (every instance shares r)
 * With W instances waiting, each gets 25/W reads/s at best: a period of W/25 s (40 s at
 * W = 1,000). The policy cannot count W, but r falls when the fleet outreads the refill, so
 * after every answer that carries r (whatever the reason) the wait is at least
 *     fleet(r) = 5 s × 6^((245 − r)/245) × (1 + 0.3 × random)
 * geometric from the per-VM 5 s at r = 245 to 30 s at r = 0: r = 200 → 7.0 s, 125 → 12.0 s,
 * 50 → 20.8 s, 0 → 30-39 s. With the jitter's mean 1.15, the fleet's rate W/(1.15 fleet(r))
 * meets the 25/s refill at r ≈ 145 for W = 300 and r ≈ 30 for W = 700; past W ≈ 860 the
 * bucket runs dry and ARM's 429s (r = 0) hold everyone at 30-39 s.
 * The map is gentle on purpose: every instance reacts only at its next read, one period late,
 * so a steep map (1 s at a full bucket, 100 s at an empty one) swings the whole fleet between
 * the two and leaves the refill unused half the time (bench: p50 3× worse at N = 1,000).
 *
 * ## Measured (npm run bench:fleet, no overprovisioning, p50 / the budgets' bound)
 * N = 10: 1.0 s (0.38×), 100: 2.5 s (0.95×), 500: 8.3 s (1.7×), 1,000: 18.6 s (2.0×),
 * 2,000: 30.8 s (1.9×). 429s only from N = 1,000 (570; 2,541 at 2,000), where the boot wave's
 * first reads (35-40/s, which the contract sends at once) outrun the 25/s refill. A policy
 * told the exact number of waiters gets only to 1.6× and 2.0× there: scripts/fleet/bound.ts.
 *
 * ## Scale-set reads (--overprovisioned)
 * 5 reads 1.6-2.4 s apart, then 10-15 s apart. Its bucket is shared by the whole scale-out, so
 * its count in `x-ms-ratelimit-remaining-resource` matters most here: below 12 left, the wait
 * stretches to 5 s × 12 / (count + 1) (count 0 → 60 s), as for a VM's own bucket.
 *
 * ## Faults, n = consecutive failed reads (≥ 1), jittered
 * - 429 with Retry-After → Retry-After + 0-1 s (a fleet throttled together must not return
 *   together). ARM's Retry-After is about a second (one token), so on its own it would bring
 *   the fleet straight back; but ARM's 429 also says the principal has 0 reads left, and the
 *   fleet rule below then holds this instance off for fleet(0) = 30-39 s.
 * - 429 without → 5 s × 2^(n−1), at most 60 s, ×0.8-1.2.
 * - 403 (RBAC propagation, up to 10 min) → 2 s × 1.6^(n−1), at most 15 s (~45 reads in 10 min).
 * - 5xx, reset, hung request, any other status → 1 s × 2^(n−1), at most 30 s.
 * - IMDS (a local service limited to 5 requests/s; its 410 may last 70 s):
 *   1 s × 1.5^(n−1), at most 5 s, so IMDS coming back is noticed within 6 s.
 */

export type ArmTarget = "vm" | "scaleSet";

/** Why the policy is asked: a 200 with a state that is not final yet, or a fault. */
export type ArmReason = "state" | "throttled" | "forbidden" | "transient";

/** The policy's memory from one ARM answer to the next; the core stores it and hands it back. */
export interface Pace {
  /** The pacing period this instance settled on: its share of the fleet's reads. */
  periodMs: number;
  /** The principal's reads left at the last answer that said (see fleetRatePerS). */
  remaining?: number;
  /** elapsedMs of that answer. */
  atMs?: number;
}

export interface ArmPollInput {
  target: ArmTarget;
  reason: ArmReason;
  /** For "state": reads of this target answered 200 so far (≥ 1). Otherwise: consecutive failed ARM reads (≥ 1). */
  attempt: number;
  /** Milliseconds since the first ARM read of this run, at this answer. */
  elapsedMs: number;
  /** Headers (lower-case names) of the last ARM response; {} after a network error. */
  headers: Record<string, string>;
  /** The last response's Retry-After in ms, when it had one. The core enforces it as a floor anyway. */
  retryAfterMs?: number;
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
  retryAfterMs?: number;
  /** Uniform in [0, 1). */
  random: number;
}

/** Reads of the VM spent fast right after boot (out of its Compute bucket of 36). */
export const VM_FAST_READS = 24;
/** The period floor during those reads. */
const VM_FAST_MS = 1000;
/** One token per 5 s is the per-VM Compute refill (12/min): the period floor afterwards. */
export const VM_STEADY_MS = 5000;
/** Longest period: 120 s × 25 reads/s = 3,000 instances, all waiting, fit in the principal's refill. */
export const MAX_PERIOD_MS = 120000;
/** Every wait is the period × (1 + this × random): never shorter than the period, 7.5 % longer on average. */
const JITTER = 0.15;
/** The principal's refill: ARM reads, 25/s per principal per subscription (the doc cited above). */
const PRINCIPAL_REFILL_PER_S = 25;
/** Reads left at or above which the principal's bucket (250) counts as full: the fleet is under the refill. */
const PRINCIPAL_FULL = 245;
/** The level the fleet steers the principal's bucket to: half of 250, room both ways. */
const PRINCIPAL_SETPOINT = 125;
/** Seconds over which the fleet aims to bring the bucket back to the setpoint. */
const SETPOINT_S = 25;
/** Fleet rate aimed at, at least, whatever the level: 40 % of the refill. */
const MIN_TARGET_SHARE = 0.4;
/** How much of the measured excess one update corrects (1 = all): < 1 so that a fleet updating out of step does not overshoot. */
const GAIN = 0.7;
/** One update changes the period by at most this factor either way. */
const MAX_STEP = 2;
/** Period factor after an answer that found the principal's bucket full twice running. */
const IDLE_STEP = 0.5;
/** Compute counts below this stretch the wait: a third of a 36-token bucket. */
const LOW_WATER = 12;
const THROTTLED_BASE_MS = 5000;
const THROTTLED_CAP_MS = 60000;
const THROTTLED_RETRY_AFTER_JITTER_MS = 1000;
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
 * both ends (it may have overflowed in between, so the count says nothing but "under 25/s").
 */
export function fleetRatePerS(before: number, after: number, dtMs: number): number | undefined {
  if (before >= PRINCIPAL_FULL && after >= PRINCIPAL_FULL) return undefined;
  const dt = Math.max(dtMs, 1) / 1000;
  return Math.max(before - after + PRINCIPAL_REFILL_PER_S * dt, 1) / dt;
}

/** The fleet rate to aim at with `remaining` reads left: the refill, plus what brings the bucket back to its setpoint over SETPOINT_S. */
export function targetRatePerS(remaining: number): number {
  return Math.max(PRINCIPAL_REFILL_PER_S * MIN_TARGET_SHARE, PRINCIPAL_REFILL_PER_S + (remaining - PRINCIPAL_SETPOINT) / SETPOINT_S);
}

/** A newcomer's first guess from one count: the floor at a full bucket, geometric up to the ceiling at an empty one. */
export function firstPeriodMs(remaining: number, floorMs: number): number {
  const empty = (PRINCIPAL_FULL - clamp(remaining, 0, PRINCIPAL_FULL)) / PRINCIPAL_FULL;
  return floorMs * Math.pow(MAX_PERIOD_MS / floorMs, empty);
}

/**
 * The next pacing period from the previous one and this answer's count of the principal's reads
 * left: multiplied by (measured fleet rate / target rate)^GAIN, so that every instance scales its
 * own rate by the same factor and the fleet as a whole lands on the target.
 */
export function nextPeriodMs(prev: Pace | undefined, remaining: number | undefined, atMs: number, floorMs: number, throttled: boolean): number {
  let period: number;
  if (remaining === undefined) period = prev ? prev.periodMs : floorMs;
  else if (!prev || prev.remaining === undefined || prev.atMs === undefined) period = firstPeriodMs(remaining, floorMs);
  else {
    const rate = fleetRatePerS(prev.remaining, remaining, atMs - prev.atMs);
    const factor = rate === undefined ? IDLE_STEP : Math.pow(rate / targetRatePerS(remaining), GAIN);
    period = prev.periodMs * clamp(factor, 1 / MAX_STEP, MAX_STEP);
  }
  if (throttled) period = Math.max(period, (prev ? prev.periodMs : floorMs) * MAX_STEP);
  return clamp(period, floorMs, MAX_PERIOD_MS);
}

/** The wait before the next ARM read, and the pace to hand back next time. */
export function armPoll(input: ArmPollInput): ArmPoll {
  const { target, reason, attempt, random, pace } = input;
  const principal = smallestRemaining(input.headers, (name) => name !== RESOURCE_HEADER);
  const compute = smallestRemaining(input.headers, (name) => name === RESOURCE_HEADER);
  const fast = target === "vm" && reason === "state" && attempt < VM_FAST_READS;
  const floorMs = fast ? VM_FAST_MS : VM_STEADY_MS;
  const periodMs = nextPeriodMs(pace, principal, input.elapsedMs, floorMs, reason === "throttled");
  const next: Pace =
    principal === undefined ? { periodMs, remaining: pace && pace.remaining, atMs: pace && pace.atMs } : { periodMs, remaining: principal, atMs: input.elapsedMs };
  let delay = periodMs * (1 + JITTER * random);
  switch (reason) {
    case "throttled":
      delay = Math.max(
        delay,
        input.retryAfterMs !== undefined
          ? input.retryAfterMs + THROTTLED_RETRY_AFTER_JITTER_MS * random
          : jitter(backoff(THROTTLED_BASE_MS, 2, THROTTLED_CAP_MS, attempt), random),
      );
      break;
    case "forbidden":
      delay = jitter(backoff(FORBIDDEN_BASE_MS, FORBIDDEN_FACTOR, FORBIDDEN_CAP_MS, attempt), random);
      break;
    case "transient":
      delay = jitter(backoff(TRANSIENT_BASE_MS, 2, TRANSIENT_CAP_MS, attempt), random);
      break;
    default:
  }
  if (compute !== undefined && compute < LOW_WATER) delay = Math.max(delay, (VM_STEADY_MS * LOW_WATER) / (compute + 1));
  return { delayMs: Math.round(delay), pace: next };
}

/** Milliseconds to wait before the next ARM read, for a caller that keeps no pace. */
export function armDelayMs(input: ArmPollInput): number {
  return armPoll(input).delayMs;
}

/** Milliseconds to wait before retrying IMDS (instance metadata or the identity token). */
export function imdsDelayMs(input: ImdsRetryInput): number {
  const delay = jitter(backoff(IMDS_BASE_MS, IMDS_FACTOR, IMDS_CAP_MS, input.attempt), input.random);
  return Math.round(Math.max(delay, input.retryAfterMs !== undefined ? input.retryAfterMs : 0));
}
