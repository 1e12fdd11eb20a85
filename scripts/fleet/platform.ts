/**
 * The scale-out itself: when each instance boots, when Azure marks it Succeeded, which ones
 * are the overprovisioned extras and when they are deleted. It depends only on the seed, so
 * both policies meet the very same fleet.
 */
import {
  BOOT_MEDIAN_S,
  BOOT_SIGMA,
  CREATE_STAGGER_VMS_PER_S,
  DELETE_MEDIAN_S,
  DELETE_START_S,
  OVERPROVISION_FRACTION,
  READY_MEDIAN_S,
  READY_MIN_S,
  READY_SIGMA,
} from "./constants";
import { Rng } from "./sim";

export interface VmTimeline {
  index: number;
  /** Waiter start (ms, virtual epoch). */
  agentStart: number;
  /** provisioningState becomes Succeeded (ms); Infinity for an extra deleted while still Creating. */
  succeeded: number;
  /** An overprovisioned extra that the platform deletes. */
  extra: boolean;
  /** Deleting from (ms); Infinity for a kept VM. */
  deleting: number;
  /** 404 and powered off from (ms); Infinity for a kept VM. */
  gone: number;
}

export interface ScaleOut {
  requested: number;
  vms: VmTimeline[];
  /** The scale set's own provisioningState turns Succeeded (ms): the scale-out, deletions included, is over. */
  scaleSetSucceeded: number;
  /** When the N-th instance reached Succeeded (ms). */
  nthSucceeded: number;
}

export interface ScaleOutOptions {
  requested: number;
  overprovision: boolean;
  seed: number;
  /** Virtual epoch of the scale-out request (ms). */
  start: number;
  /** Instances whose creation starts per second (default CREATE_STAGGER_VMS_PER_S, an assumption). */
  createPerS?: number;
}

export function extrasFor(requested: number, overprovision: boolean): number {
  return overprovision ? Math.ceil(requested * OVERPROVISION_FRACTION) : 0;
}

/**
 * Each instance: creation starts at U(0, M / stagger), boots in a log-normal time, and is
 * Succeeded a log-normal time after its waiter starts. Once N are Succeeded the platform
 * waits DELETE_START_S, marks every other instance Deleting (an extra that turned Succeeded in
 * that window has been Succeeded, which is the trap of overprovisioning), and each vanishes a
 * log-normal time later; the scale set is Succeeded when the last is gone.
 */
export function planScaleOut(o: ScaleOutOptions): ScaleOut {
  const rng = new Rng(o.seed);
  const total = o.requested + extrasFor(o.requested, o.overprovision);
  const vms: VmTimeline[] = [];
  const deleteDuration: number[] = [];
  for (let i = 0; i < total; i++) {
    const r = rng.fork();
    const created = o.start + r.uniform(0, total / (o.createPerS ?? CREATE_STAGGER_VMS_PER_S)) * 1000;
    const agentStart = created + r.lognormal(BOOT_MEDIAN_S, BOOT_SIGMA) * 1000;
    const ready = Math.max(READY_MIN_S, r.lognormal(READY_MEDIAN_S, READY_SIGMA));
    deleteDuration.push(r.lognormal(DELETE_MEDIAN_S, 0.3) * 1000);
    vms.push({
      index: i,
      agentStart,
      succeeded: agentStart + ready * 1000,
      extra: false,
      deleting: Infinity,
      gone: Infinity,
    });
  }
  const order = [...vms].sort((a, b) => a.succeeded - b.succeeded);
  const nthSucceeded = order[o.requested - 1].succeeded;
  let scaleSetSucceeded = nthSucceeded;
  const deleteAt = nthSucceeded + DELETE_START_S * 1000;
  for (const vm of order.slice(o.requested)) {
    vm.extra = true;
    vm.deleting = deleteAt;
    vm.gone = deleteAt + deleteDuration[vm.index];
    // An extra still Creating when deleted never turns Succeeded.
    if (vm.succeeded >= deleteAt) vm.succeeded = Infinity;
    scaleSetSucceeded = Math.max(scaleSetSucceeded, vm.gone);
  }
  return { requested: o.requested, vms, scaleSetSucceeded, nthSucceeded };
}

/** The instance's provisioningState at t, or null once it is gone (ARM answers 404). */
export function vmStateAt(vm: VmTimeline, t: number): string | null {
  if (t >= vm.gone) return null;
  if (t >= vm.deleting) return "Deleting";
  if (t >= vm.succeeded) return "Succeeded";
  return "Creating";
}

/** The scale set's provisioningState at t: Updating while the scale-out (and the cull) runs. */
export function scaleSetStateAt(s: ScaleOut, t: number): string {
  return t >= s.scaleSetSucceeded ? "Succeeded" : "Updating";
}
