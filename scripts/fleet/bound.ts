/**
 * The floor the documented budgets put on "Succeeded → worker start", per kept instance, for any
 * waiter under the kept-file contract (agent README): it learns Succeeded only from an ARM read of
 * its own VM, sends its first read at boot, keeps reading until it has seen its answer (while its
 * kept file is absent too, to see Deleting), and, since no instance can count the others, takes
 * an equal share of every budget it shares.
 *
 * Derivation. ready_i = max(Succeeded_i, kept file_i, RBAC_j) is the earliest any waiter could
 * start instance i of scale set j; the answer to a read comes one round trip (RTT) after it.
 * 1. Phase. Ready falls at a moment the waiter cannot predict, so at a uniformly random phase of
 *    its reads: reading at rate r(t), it sends its next read once ∫ r dt from ready_i reaches its
 *    phase, ½ on average (for evenly spaced reads; unevenness only lengthens the gap ready lands in).
 * 2. Per VM. Compute's per-VM bucket refills 12/min: a waiter that cannot tell when Succeeded
 *    comes reads at most every 5 s in the long run, a wait of 2.5 s. The kept file says Succeeded
 *    is seconds away (its extension is finishing), so the VM's own burst of 36 pays for reads 1 s
 *    apart: 0.5 s.
 * 3. Shared budgets, as a fluid. Every waiter still reading draws on its scale set's principal
 *    (250, +25/s), the subscription's ARM reads (3,750, +375/s) and, once RBAC has landed (Compute
 *    never sees a 403), Compute's "Get VMSS VMs" per subscription (6,000, +2,000/min). Still reading
 *    means booted and not yet exited: a kept waiter exits at its first read after ready, an extra
 *    at its first after Deleting; so W counts the waiters whose answer has come but who have not
 *    read it yet. Each bucket b gives polling ρ_b + L_b/H_b reads per second, where L_b is its level
 *    after the first reads at boot (which the contract sends and no policy can pace) and
 *    H_b = C_b/ρ_b its refill time: a fleet that cannot know how long a drain will last spends its
 *    burst no faster than the bucket would refill it, else it runs dry. The W_b waiters share it
 *    equally (Σ 1/(2r) under Σ r ≤ c is least for equal shares, 1/r being convex), so each reads at
 *    r = min_b (ρ_b + L_b/H_b)/W_b, and at most once per second (step 2).
 * 4. RBAC (first deployment). Until RBAC_j lands every read of set j answers 403 and says nothing
 *    of when it will land: it is one more unpredictable moment (step 1), and its W_j waiters all
 *    reach it at once.
 * Hence start_i ≥ max(ready_i + per-VM wait, the moment step 3's reads after ready_i add up to ½) + RTT,
 * integrated in steps of 0.1 s over the platform's own timeline (platform.ts).
 *
 * What it leaves out, on purpose: a waiter that spends its burst on a guess beats step 2 (a lone
 * VM's 24 fast reads in its first half minute), so a ratio below 1 at small N is legitimate; and a
 * waiter that starved the others (an extra, a VM still without its kept file) could beat step 3,
 * but the contract gives every waiter the same share. It is a floor for that contract, not a promise.
 */
import {
  ARM_READS_PER_PRINCIPAL,
  ARM_READS_PER_SUBSCRIPTION,
  ARM_RTT_MEDIAN_MS,
  COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_VM,
  FORBIDDEN_COUNTED,
} from "./constants";
import type { BucketLimit } from "./constants";
import { Deployment, VmTimeline, readyAt } from "./platform";

/** Step 2 without the kept file: half the per-VM refill period, 60 s / 12 / 2 = 2.5 s. */
export const PER_VM_WAIT_MS = 1000 / COMPUTE_GET_VMSS_VM_PER_VM.refillPerSecond / 2;
/** Step 2 with the kept file: reads 1 s apart from the VM's own burst, 0.5 s. */
export const KEPT_FILE_WAIT_MS = 500;
/** The fastest a waiter reads its VM: once a second, from its own burst. */
const MAX_READS_PER_S = 1;
/** The integration step. */
const STEP_MS = 100;
/** A waiter reads after ready once ∫ r dt reaches this: the mean phase. */
const PHASE = 0.5;

/** One shared bucket in the fluid: its level and what it can give to polling now. */
class Fluid {
  level: number;
  constructor(readonly limit: BucketLimit) {
    this.level = limit.capacity;
  }
  /** The first reads at boot this step took: no policy paces them. */
  unpaced = 0;
  /** Reads per second it can give to polling: its refill less the first reads, plus its level spent over its refill time. */
  polling(dtS: number): number {
    const refillTime = this.limit.capacity / this.limit.refillPerSecond;
    return Math.max(0, this.limit.refillPerSecond - this.unpaced / dtS + this.level / refillTime);
  }
  spend(reads: number, dtS: number): void {
    const level = this.level + this.limit.refillPerSecond * dtS - this.unpaced - reads;
    if (level < 0) this.overdrawn += -level;
    this.level = Math.min(this.limit.capacity, Math.max(0, level));
    this.unpaced = 0;
  }
  /** Reads the first reads alone took beyond the bucket: 429s no policy under the contract can avoid. */
  overdrawn = 0;
}

interface Event {
  at: number;
  vm: VmTimeline;
}

/** The earliest start (epoch ms) of every kept instance, by index. */
export function boundStartsMs(d: Deployment, forbiddenCounted = FORBIDDEN_COUNTED): Map<number, number> {
  const sets = d.scaleSets.length;
  const rbac = d.scaleSets.map((s) => s.rbacReady);
  const principals = d.scaleSets.map(() => new Fluid(ARM_READS_PER_PRINCIPAL));
  const global = new Fluid(ARM_READS_PER_SUBSCRIPTION);
  const compute = new Fluid(COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION);
  const boots: Event[] = d.vms.map((vm) => ({ at: vm.agentStart, vm })).sort((a, b) => a.at - b.at);
  // When each waiter's answer is there: ready for a kept VM, Deleting for an extra (it exits on it).
  const answers: Event[] = d.vms
    .map((vm) => ({ at: Math.max(vm.agentStart, vm.extra ? Math.min(vm.deleting, vm.gone) : readyAt(d, vm)), vm }))
    .sort((a, b) => a.at - b.at);
  const reading = new Array<number>(sets).fill(0);
  const phase = new Array<number>(sets).fill(0);
  const pending: Array<Array<{ vm: VmTimeline; until: number }>> = d.scaleSets.map(() => []);
  const out = new Map<number, number>();
  let nextBoot = 0;
  let nextAnswer = 0;
  let served = 0;
  const dt = STEP_MS / 1000;
  for (let t = boots[0].at; served < d.vms.length; t += STEP_MS) {
    for (; nextBoot < boots.length && boots[nextBoot].at <= t; nextBoot++) {
      const j = boots[nextBoot].vm.scaleSet;
      reading[j]++;
      if (t >= rbac[j]) compute.unpaced++;
      if (t >= rbac[j] || forbiddenCounted) {
        principals[j].unpaced++;
        global.unpaced++;
      }
    }
    for (; nextAnswer < answers.length && answers[nextAnswer].at <= t; nextAnswer++) {
      const { vm } = answers[nextAnswer];
      pending[vm.scaleSet].push({ vm, until: phase[vm.scaleSet] + PHASE });
    }
    // Step 3: each set's waiters read at the binding bucket's equal share.
    const all = reading.reduce((a, b) => a + b, 0);
    const charged = reading.reduce((a, w, j) => a + (t >= rbac[j] || forbiddenCounted ? w : 0), 0);
    const onCompute = reading.reduce((a, w, j) => a + (t >= rbac[j] ? w : 0), 0);
    const rates = reading.map((w, j) => {
      if (w === 0) return 0;
      let r = MAX_READS_PER_S;
      if (t >= rbac[j] || forbiddenCounted) {
        r = Math.min(r, principals[j].polling(dt) / w, global.polling(dt) / Math.max(1, charged));
      }
      if (t >= rbac[j]) r = Math.min(r, compute.polling(dt) / Math.max(1, onCompute));
      return r;
    });
    let globalReads = 0;
    let computeReads = 0;
    for (let j = 0; j < sets; j++) {
      const reads = rates[j] * reading[j] * dt;
      const charge = t >= rbac[j] || forbiddenCounted;
      principals[j].spend(charge ? reads : 0, dt);
      if (charge) globalReads += reads;
      if (t >= rbac[j]) computeReads += reads;
      phase[j] += rates[j] * dt;
      const queue = pending[j];
      while (queue.length && queue[0].until <= phase[j]) {
        const { vm } = queue.shift()!;
        reading[j]--;
        served++;
        if (!vm.extra) out.set(vm.index, t);
      }
    }
    global.spend(globalReads, dt);
    compute.spend(computeReads, dt);
  }
  for (const vm of d.vms) {
    if (vm.extra) continue;
    const perVm = d.overprovision ? KEPT_FILE_WAIT_MS : PER_VM_WAIT_MS;
    out.set(vm.index, Math.max(readyAt(d, vm) + perVm, out.get(vm.index)!) + ARM_RTT_MEDIAN_MS);
  }
  return out;
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))];
}
