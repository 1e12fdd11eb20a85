/**
 * The lower bound that the documented budgets put on "Succeeded → worker start", per instance,
 * for any waiter that, like ours, cannot know when its VM will turn Succeeded.
 *
 * Derivation.
 * 1. A waiter learns Succeeded only from an ARM read sent after it (the answer then takes a
 *    round trip, RTT). Between reads it is blind.
 * 2. Succeeded arrives at a moment the waiter cannot predict, so it falls at a uniformly
 *    random phase of the waiter's reads. For reads at a mean rate r, the mean wait from that
 *    moment to the next read is at least 1/(2r), and exactly that for evenly spaced reads
 *    (the inspection paradox: any unevenness makes the gap that Succeeded lands in longer).
 * 3. Rates are capped twice. Per VM, Compute's "Get VMSS VMs" refills 12/min, so r ≤ 1/5 s
 *    and the wait is ≥ 2.5 s. Across the fleet, every instance shares one principal and so
 *    ARM's 25 reads/s; with W(t) instances waiting at t, Σ r ≤ 25/s. Σ 1/(2r) under Σ r ≤ 25
 *    is least for equal shares (1/r is convex), r = 25/W, a wait of W/(2·25) s. Compute's
 *    subscription bucket (2,000/min ≈ 33/s) is looser than ARM's 25/s and never binds.
 * 4. Hence, for an instance turning Succeeded at s, wait ≥ max(2.5 s, W(s)/50 s) + RTT.
 *    W(s) counts the instances still waiting for their own Succeeded at that moment (kept VMs
 *    and extras alike), not N: the ones already done no longer spend the budget. With all N
 *    waiting at once it is the issue's max(per-VM bound, N/(2×25) s).
 * 5. With --overprovisioned the waiter must also read the scale set Succeeded (at S, when the
 *    cull is over) and then its own VM once more: two reads after S, two more round trips after
 *    max(s + wait, S). Those 2 reads per instance come from the same 250 + 25/s, so the k-th
 *    instance through cannot be done before S + (2k − 250)/25 s; we admit them first come, first
 *    served (by when they could have seen their own Succeeded). At N = 2,000 that alone puts the
 *    median instance 70 s after S.
 *    What-if (--vmss-bucket): the scale-set reads also draw on Compute's per-scale-set "Low Cost
 *    Get VMSS" bucket (36, refilled 12/min) shared by the whole fleet, so even an oracle can admit
 *    only 36 instances at S and one every 5 s after.
 * The bound ignores the one-off bursts (36 per VM, 250 per principal) before S: a waiter that
 * spends its burst early can beat step 3 for waits shorter than a few minutes, so a ratio below 1
 * at small N is legitimate, not a bug. It is a steady-state floor, not a promise.
 *
 * Why W(s) and not the issue's N/(2×25): N assumes every instance waits at once. Instances that
 * already saw Succeeded stop reading, so a policy can beat N/50 by far when instances boot over
 * minutes; a "bound" that can be beaten bounds nothing. The bench prints N/50 beside it.
 *
 * What it leaves out, on purpose (it holds for any waiter): the agent's contract sends each
 * waiter's first read as soon as it has a token, when its VM is (in this model) never Succeeded
 * yet. Those reads come at the boot rate a(t) and leave 25 − a(t) for polling, so a waiter under
 * the contract cannot do better than about W/(2(25 − a)) where W/50 dominates, i.e. up to
 * 25/(25 − a) times this bound: 1.25× at a = 5/s (the default creation rate), 1.67× at 10/s;
 * at 50/s the first reads alone (35-40/s at the wave's peak) outrun the refill, and zero 429s
 * is impossible for any waiter under that rule.
 */
import {
  ARM_RTT_MEDIAN_MS,
  ARM_SUBSCRIPTION_READ_BUCKET,
  ARM_SUBSCRIPTION_READ_REFILL_PER_S,
  COMPUTE_GET_VMSS_BUCKET,
  COMPUTE_GET_VMSS_REFILL_PER_MIN,
  COMPUTE_GET_VMSS_VM_REFILL_PER_MIN,
} from "./constants";
import type { ScaleOut } from "./platform";

/** Half the per-VM refill period: 60 s / 12 / 2 = 2.5 s. */
export const PER_VM_FLOOR_MS = 60_000 / COMPUTE_GET_VMSS_VM_REFILL_PER_MIN / 2;

export interface BoundOptions {
  /** The waiter gates on the scale set (issue 3, --overprovisioned). */
  gate: boolean;
  /** What-if: the per-scale-set "Low Cost Get VMSS" bucket (off by default, as in azure.ts). */
  scaleSetBucket?: boolean;
}

/** The issue's rough form, max(per-VM floor, N/(2×25) s) + RTT: every instance waiting at once. */
export function issueBoundMs(n: number): number {
  return pollingFloorMs(n);
}

/** Step 4's wait for a fleet of W waiting instances, in ms, round trip included. */
export function pollingFloorMs(waiting: number): number {
  return Math.max(PER_VM_FLOOR_MS, (waiting / (2 * ARM_SUBSCRIPTION_READ_REFILL_PER_S)) * 1000) + ARM_RTT_MEDIAN_MS;
}

/** W(t): instances whose waiter has started and whose own VM is not yet Succeeded (nor being deleted). */
export function waitingCounter(s: ScaleOut): (t: number) => number {
  const starts = s.vms.map((v) => v.agentStart).sort((a, b) => a - b);
  const ends = s.vms.map((v) => Math.min(v.succeeded, v.deleting)).sort((a, b) => a - b);
  return (t) => countAtMost(starts, t) - countAtMost(ends, t - 1e-9);
}

function countAtMost(sorted: number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bound for every kept instance, in ms, in the order of s.vms (extras omitted). */
export function boundLatenciesMs(s: ScaleOut, o: BoundOptions): number[] {
  const waiting = waitingCounter(s);
  const kept = s.vms.filter((v) => !v.extra);
  const seen = kept.map((v) => v.succeeded + pollingFloorMs(waiting(v.succeeded)));
  return gateAndMeasure(s, kept, seen, o);
}

function gateAndMeasure(s: ScaleOut, kept: ScaleOut["vms"], seen: number[], o: BoundOptions): number[] {
  if (!o.gate) return kept.map((v, i) => seen[i] - v.succeeded);
  const slotEveryMs = 60_000 / COMPUTE_GET_VMSS_REFILL_PER_MIN;
  const order = kept.map((_, i) => i).sort((a, b) => seen[a] - seen[b]);
  const out = new Array<number>(kept.length);
  order.forEach((i, k) => {
    // The k-th instance through cannot be done before 2(k+1) reads have been served after S.
    const budget =
      s.scaleSetSucceeded +
      (Math.max(0, 2 * (k + 1) - ARM_SUBSCRIPTION_READ_BUCKET) / ARM_SUBSCRIPTION_READ_REFILL_PER_S) * 1000;
    const slot =
      (o.scaleSetBucket ?? false)
        ? s.scaleSetSucceeded + Math.max(0, k + 1 - COMPUTE_GET_VMSS_BUCKET) * slotEveryMs
        : s.scaleSetSucceeded;
    out[i] = Math.max(seen[i], slot, budget) + 2 * ARM_RTT_MEDIAN_MS - kept[i].succeeded;
  });
  return out;
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))];
}
