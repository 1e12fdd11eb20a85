/**
 * The fleet's share: how a waiter, which never learns how many others share its budgets, keeps
 * the whole fleet inside them from the counts ARM and Compute return with each answer. Pure; used
 * by pollPolicy.ts, which adds the per-VM floors, the fault backoffs and the jitter. Tuned with
 * `npm run bench:fleet` (scripts/fleet), whose rows are the evidence for every constant below.
 *
 * ## The shared buckets (constants.ts cites each)
 * | bucket b | capacity C | refill ρ | refill time C/ρ | shared by | header |
 * |---|---|---|---|---|---|
 * | ARM reads, per principal | 250 | 25/s | 10 s | one scale set (its identity) | x-ms-ratelimit-remaining-subscription-reads |
 * | ARM reads, per subscription | 3,750 | 375/s | 10 s | every scale set | x-ms-ratelimit-remaining-subscription-global-reads |
 * | Compute "Get VMSS VMs", per subscription | 6,000 | 33.3/s | 180 s | every scale set | x-ms-ratelimit-remaining-resource, the entry above 36 |
 * Compute's per-VM bucket (36, 0.2/s) is this VM's alone: pollPolicy.ts keeps to it with floors.
 * Compute names no policy in its header, so its subscription entry is told by its size (a per-VM
 * count never exceeds 36) and then followed by name.
 *
 * ## One period for every bucket
 * Each instance keeps a period P. Two consecutive counts r₀ → r of bucket b, dt apart, give the
 * fleet's draw on it: λ_b = (r₀ − r + ρ_b·dt)/dt (what it lost plus what came back). The target is
 *     λ*_b = share·ρ_b + (r − setpoint·C_b) / max(C_b/ρ_b, P),
 * a share of the refill, nudged to bring the bucket to a setpoint over the longer of its refill
 * time and the next period. Share and setpoint depend on what the read is for (PROFILES below:
 * 100 %/40 % for a read that may end the wait, down to 60 %/80 % for a 403); Compute's
 * subscription bucket is steered to 30 % whatever the read (its burst is three minutes of refill:
 * spend it). Then
 *     P ← P × max_b(λ_b / λ*_b),   clamped to ×0.5..×2 per step.
 * Every instance scales its rate by the same factor, so the fleet lands on the binding bucket's
 * target whatever its size W_b: at equilibrium P = W_b/(share·ρ_b), e.g. 40 s for one scale set
 * of 1,000 reading its state (principal), and Succeeded is seen about P/2 after it happens.
 * A fleet that grows while it learns (boots add readers faster than one period can react) sits
 * below its setpoint, which is why no profile takes the whole bucket.
 * Special cases, each for a reason:
 * - Full at both ends (r₀, r ≥ 0.98·C): the bucket may have overflowed, λ_b is unknown but under
 *   ρ_b: that bucket asks ×0.5.
 * - r < ρ_b·1 s: the bucket may have run dry in between, and refused calls do not show in λ_b,
 *   so that bucket never asks for a shorter period.
 * - A 403 (the role assignment propagating): ARM answers it, Compute never sees it, yet each
 *   waiter's first read once RBAC lands goes to Compute's subscription bucket, all within one
 *   period. So the subscription's rate λ_global is also held to ρ_c + 0.8·C_c/max(10 s, P): a
 *   period's worth of those reads fits in 80 % of Compute's burst plus its refill. (The global
 *   count shows that rate only once the subscription reads faster than its 375/s refill; below
 *   that the principals' 25/s each bound it: ten sets reach Compute at ≤ 250/s.)
 * - A newcomer has counts and no rate: P = floor × 12^e, e the emptiest ARM bucket's
 *   (0.98·C − r)/(0.98·C), from the floor at full buckets to 12 × the floor at an empty one; its
 *   second answer gives it a rate.
 * - Compute's subscription bucket below full means the subscription reads faster than 33.3/s, which
 *   one scale set cannot (its principal allows 25/s): several scale sets are scaling out, and their
 *   boot reads (the contract's first read, which no policy paces) may alone outrun the refill. A
 *   newcomer cannot tell how many share it, and most waiters there read only twice (at boot and
 *   once more), so no rate can be learnt in time: every period is then at least
 *   drainFloorMs = 4 × (C_c − r)/ρ_c, four times what the bucket needs to win back what the
 *   subscription has drawn. Ten sets of 1,000 created at 50/s settle at 0 × 429 with 4 and not
 *   with 3 (bench: 112 429s).
 * - P never exceeds MAX_PERIOD_MS: 600 s × 30/s = 18,000 instances on Compute's subscription bucket.
 */
import {
  ARM_READS_PER_PRINCIPAL,
  ARM_READS_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_VM,
} from "./constants";
import type { BucketLimit } from "./constants";

export const PRINCIPAL_HEADER = "x-ms-ratelimit-remaining-subscription-reads";
export const SUBSCRIPTION_HEADER = "x-ms-ratelimit-remaining-subscription-global-reads";
export const RESOURCE_HEADER = "x-ms-ratelimit-remaining-resource";

/** The shared buckets, in the order Pace.seen and Counts.shared keep them. */
export const SHARED: readonly BucketLimit[] = [
  ARM_READS_PER_PRINCIPAL,
  ARM_READS_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION,
];
const SUBSCRIPTION = 1;
export const COMPUTE = 2;

/** The longest period: 600 s × 30 reads/s = 18,000 instances on Compute's subscription bucket. */
export const MAX_PERIOD_MS = 600000;
/**
 * How hard a read may press the shared buckets, by what it is for: its share of a bucket's refill
 * and the level (a share of the capacity) it steers the bucket to. A read that may end the wait
 * (the VM's state, without --kept-file or with the file held) takes the whole refill and keeps a
 * 40 % reserve; a read that only looks for Deleting while the kept file is absent, 95 % and 60 %;
 * a fault (a 403 while RBAC propagates, a 429, a transient error) has nothing to gain by pressing:
 * 60 % and 80 %, since a first deployment's whole fleet reads 403 for minutes while it boots, and
 * a fleet that grows while it learns drifts below its target (bench: the 403 phase ran a
 * principal's bucket dry at 90 %/70 % for one scale set of 1,000, and at 75 %/80 % for ten).
 */
export const PROFILES = {
  eager: { share: 1, setpoint: 0.4 },
  proof: { share: 0.95, setpoint: 0.6 },
  patient: { share: 0.6, setpoint: 0.8 },
} as const;
export type Profile = keyof typeof PROFILES;
/** Compute's subscription bucket is steered to 30 % whatever the read: its burst is three minutes of refill, to be spent. */
const COMPUTE_SETPOINT = 0.3;
/** One update changes the period by at most this factor either way. */
const MAX_STEP = 2;
/** A newcomer's first period spans floor..floor × this: a count says how full a bucket is, not how many share it. */
const FIRST_SPAN = 12;
/** Counts at or above this share of the capacity read as full (a few calls in flight allowed for). */
const FULL = 0.98;
/** While RBAC propagates: the share of Compute's subscription burst one period of first reads may take. */
const FORBIDDEN_BURST_SHARE = 0.8;
/** The shortest horizon of the 403 rule above: the ARM buckets' refill time. */
const FORBIDDEN_HORIZON_S = 10;
/** While Compute's subscription bucket drains, every period is at least this many times what it needs to win back the deficit. */
const DRAIN_FACTOR = 4;

/** The counts one answer carried. */
export interface Counts {
  /** Per SHARED bucket; undefined when the answer did not report it. */
  shared: Array<number | undefined>;
  /** The name of Compute's subscription entry, once told by its size. */
  computePolicy?: string;
  /** This VM's own Compute count (the smallest other Compute entry). */
  vm?: number;
}

/** The policy's memory from one ARM answer to the next; the core stores it and hands it back. */
export interface Pace {
  /** This instance's pacing period: its share of the fleet's reads. */
  periodMs: number;
  /** Per SHARED bucket, the last count reported and the elapsedMs it came at. */
  seen: Array<[number, number] | undefined>;
  computePolicy?: string;
  /** Set once an answer showed a shared bucket below full: the fast phase is over for good. */
  busy: boolean;
  /** The kept file came before Succeeded while the fleet had room (pollPolicy.ts afterProof): fast reads again, within P. */
  held?: boolean;
}

function count(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^\s*(\d+)\s*$/.exec(value);
  return m ? parseInt(m[1], 10) : undefined;
}

/** The shared counts and this VM's Compute count from an answer's headers (names lower case). */
export function readCounts(headers: Record<string, string>, computePolicy?: string): Counts {
  const out: Counts = { shared: [count(headers[PRINCIPAL_HEADER]), count(headers[SUBSCRIPTION_HEADER]), undefined] };
  const entries: Array<[string, number]> = [];
  for (const part of (headers[RESOURCE_HEADER] || "").split(",")) {
    const m = /^\s*([^;]*);\s*(\d+)\s*$/.exec(part);
    if (m) entries.push([m[1].trim(), parseInt(m[2], 10)]);
  }
  let sub = computePolicy ? entries.find((e) => e[0] === computePolicy) : undefined;
  if (!sub) {
    for (const e of entries) if (e[1] > COMPUTE_GET_VMSS_VM_PER_VM.capacity && (!sub || e[1] > sub[1])) sub = e;
  }
  if (sub) {
    out.shared[COMPUTE] = sub[1];
    out.computePolicy = sub[0];
  }
  for (const e of entries) if (e !== sub && (out.vm === undefined || e[1] < out.vm)) out.vm = e[1];
  return out;
}

const full = (b: BucketLimit): number => FULL * b.capacity;

/** Whether an answer showed a shared bucket below full: then others are reading too. */
export function belowFull(counts: Counts): boolean {
  return counts.shared.some((r, i) => r !== undefined && r < full(SHARED[i]));
}

/** The drain rule's floor: DRAIN_FACTOR × the time Compute's subscription bucket needs to refill its deficit; 0 when it is full. */
export function drainFloorMs(counts: Counts): number {
  const r = counts.shared[COMPUTE];
  const b = SHARED[COMPUTE];
  if (r === undefined || r >= full(b)) return 0;
  return Math.round((DRAIN_FACTOR * (b.capacity - r) * 1000) / b.refillPerSecond);
}

/**
 * Reads per second the whole fleet drew from bucket b between two answers of this instance: the
 * bucket fell by (before − after) while the refill put back ρ × dt. Undefined when it was full at
 * both ends (it may have overflowed in between, so the counts say only "under ρ").
 */
export function fleetRatePerS(b: BucketLimit, before: number, after: number, dtMs: number): number | undefined {
  if (before >= full(b) && after >= full(b)) return undefined;
  const dt = Math.max(dtMs, 1) / 1000;
  return Math.max(before - after + b.refillPerSecond * dt, 1) / dt;
}

/** The fleet rate to aim at on shared bucket i: 90 % of its refill, nudged toward its setpoint. */
export function targetRatePerS(i: number, remaining: number, periodMs: number, profile: Profile = "eager"): number {
  const b = SHARED[i];
  const { share, setpoint } = PROFILES[profile];
  const horizonS = Math.max(b.capacity / b.refillPerSecond, periodMs / 1000);
  return (
    share * b.refillPerSecond + (remaining - (i === COMPUTE ? COMPUTE_SETPOINT : setpoint) * b.capacity) / horizonS
  );
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** How much bucket i asks the period to change by, from its previous and current counts; undefined without both. */
function factorFor(
  i: number,
  prev: Pace,
  counts: Counts,
  atMs: number,
  forbidden: boolean,
  profile: Profile,
): number | undefined {
  const b = SHARED[i];
  const before = prev.seen[i];
  const now = counts.shared[i];
  if (!before || now === undefined) return undefined;
  const rate = fleetRatePerS(b, before[0], now, atMs - before[1]);
  let factor = rate === undefined ? 1 / MAX_STEP : rate / targetRatePerS(i, now, prev.periodMs, profile);
  if (forbidden && i === SUBSCRIPTION && rate !== undefined) {
    const c = SHARED[COMPUTE];
    const horizonS = Math.max(FORBIDDEN_HORIZON_S, prev.periodMs / 1000);
    factor = Math.max(factor, rate / (c.refillPerSecond + (FORBIDDEN_BURST_SHARE * c.capacity) / horizonS));
  }
  return now < b.refillPerSecond ? Math.max(1, factor) : factor;
}

/**
 * The next pace from the previous one and this answer's counts: P × the binding bucket's λ/λ*, so
 * that every instance scales its own rate by the same factor and the fleet as a whole lands on it.
 */
export function nextPace(
  prev: Pace | undefined,
  counts: Counts,
  atMs: number,
  floorMs: number,
  throttled: boolean,
  forbidden = false,
  profile: Profile = forbidden ? "patient" : "eager",
): Pace {
  let period: number | undefined;
  if (prev) {
    for (let i = 0; i < SHARED.length; i++) {
      const f = factorFor(i, prev, counts, atMs, forbidden, profile);
      if (f !== undefined) period = Math.max(period || 0, prev.periodMs * clamp(f, 1 / MAX_STEP, MAX_STEP));
    }
  }
  let guess: number | undefined;
  for (let i = 0; i < COMPUTE; i++) {
    const r = counts.shared[i];
    if (r === undefined) continue;
    const e = (full(SHARED[i]) - clamp(r, 0, full(SHARED[i]))) / full(SHARED[i]);
    guess = Math.max(guess || 0, floorMs * Math.pow(FIRST_SPAN, e));
  }
  const first = !prev || prev.seen.every((s) => !s);
  if (period === undefined) period = guess !== undefined && first ? guess : prev ? prev.periodMs : floorMs;
  if (throttled) period = Math.max(period, (prev ? prev.periodMs : floorMs) * MAX_STEP);
  const seen = prev ? prev.seen.slice() : [undefined, undefined, undefined];
  counts.shared.forEach((r, i) => {
    if (r !== undefined) seen[i] = [r, atMs];
  });
  return {
    periodMs: clamp(period, floorMs, MAX_PERIOD_MS),
    seen,
    computePolicy: counts.computePolicy || (prev && prev.computePolicy),
    busy: !!(prev && prev.busy) || belowFull(counts),
    held: !!(prev && prev.held),
  };
}
