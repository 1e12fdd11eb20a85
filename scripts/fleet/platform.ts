/**
 * The platform's side of a deployment, decided before any waiter runs: when each instance boots
 * and finishes OS provisioning, which ones an overprovisioned scale set keeps and when it says so
 * (the extension hold, constants.ts HOLD_MODEL), when each kept instance's extension writes the
 * kept file and when the VM reads Succeeded, when the extras are deleted, when each scale set's
 * operation completes, and, on a first deployment, when its role assignment takes effect. It
 * depends only on the seed, so every policy meets the very same fleet.
 */
import {
  BOOT_MEDIAN_S,
  BOOT_SIGMA,
  CREATE_STAGGER_VMS_PER_S,
  DELETE_MEDIAN_S,
  DELETE_START_S,
  EXTENSION_FILE_MEDIAN_S,
  EXTENSION_FILE_SIGMA,
  EXTENSION_REPORT_MEDIAN_S,
  EXTENSION_REPORT_SIGMA,
  EXTRAS_READ_SUCCEEDED,
  GOAL_STATE_PERIOD_S,
  HOLD_MODEL,
  OVERPROVISION_FRACTION,
  RBAC_PROPAGATION_S,
  READY_MEDIAN_S,
  READY_MIN_S,
  READY_SIGMA,
  ROLE_ASSIGNMENT_CREATE_S,
} from "./constants";
import type { HoldModel } from "./constants";
import { Rng } from "./sim";

export interface VmTimeline {
  /** Index in Deployment.vms. */
  index: number;
  /** Index of its scale set in Deployment.scaleSets. */
  scaleSet: number;
  /** Instance id within its scale set. */
  instance: number;
  created: number;
  /** Waiter start (boot, cloud-init), ms. */
  agentStart: number;
  /** OS provisioning complete (the guest reported ready), ms; Infinity if deleted before. */
  provisioned: number;
  extra: boolean;
  /** The kept file holds this VM's vmId from (ms); Infinity for extras and without overprovisioning. */
  keptFileAt: number;
  /** provisioningState Succeeded from (ms); Infinity for an extra (unless EXTRAS_READ_SUCCEEDED). */
  succeeded: number;
  /** Deleting from (ms); Infinity for a kept VM. */
  deleting: number;
  /** 404 and powered off from (ms); Infinity for a kept VM. */
  gone: number;
}

export interface ScaleSetPlan {
  index: number;
  requested: number;
  /** The platform chose the kept set and released their extensions (ms); -Infinity for `creation`, NaN without overprovisioning. */
  released: number;
  /** The scale set's operation (create or scale-out) completed: kept VMs Succeeded, extras gone (ms). */
  completed: number;
  /** First deployment: its role assignment takes effect (ms); before it, ARM answers the set's identity 403. -Infinity on a scale-out. */
  rbacReady: number;
}

export interface Deployment {
  first: boolean;
  overprovision: boolean;
  scaleSets: ScaleSetPlan[];
  vms: VmTimeline[];
}

export interface DeploymentOptions {
  /** Instances requested per scale set. */
  requested: number;
  /** Scale sets in the subscription, all requested at `start` (default 1). */
  scaleSets?: number;
  overprovision: boolean;
  /** A first deployment (the role assignment comes after the create) or a later scale-out. */
  first: boolean;
  seed: number;
  start: number;
  /** Instances whose creation starts per second, per scale set (default CREATE_STAGGER_VMS_PER_S). */
  createPerS?: number;
  hold?: HoldModel;
  rbacPropagationS?: number;
  extrasReadSucceeded?: boolean;
}

export function extrasFor(requested: number, overprovision: boolean): number {
  return overprovision ? Math.ceil(requested * OVERPROVISION_FRACTION) : 0;
}

/** The n-th smallest (1-based) of xs. */
function nth(xs: number[], n: number): number {
  return [...xs].sort((a, b) => a - b)[n - 1];
}

/**
 * One scale set: creation starts at U(0, M / rate), boot and OS provisioning are log-normal. With
 * overprovisioning the hold model picks the N kept and the release time H; each kept VM's
 * extensions start at max(provisioned, H) + U(0, goal-state period), write the kept file, then the
 * VM reads Succeeded; the extras read Deleting at cull = H + DELETE_START_S (`creation`: once N
 * have provisioned) and vanish a log-normal time later. Without overprovisioning Succeeded is the
 * end of OS provisioning (no extension).
 */
function planScaleSet(o: DeploymentOptions, index: number, rng: Rng, vms: VmTimeline[]): ScaleSetPlan {
  const n = o.requested;
  const total = n + extrasFor(n, o.overprovision);
  const rate = o.createPerS ?? CREATE_STAGGER_VMS_PER_S;
  const mine: VmTimeline[] = [];
  const draws: Rng[] = [];
  for (let i = 0; i < total; i++) {
    const r = rng.fork();
    const created = o.start + r.uniform(0, total / rate) * 1000;
    const agentStart = created + r.lognormal(BOOT_MEDIAN_S, BOOT_SIGMA) * 1000;
    const provisioned = agentStart + Math.max(READY_MIN_S, r.lognormal(READY_MEDIAN_S, READY_SIGMA)) * 1000;
    const vm: VmTimeline = {
      index: vms.length,
      scaleSet: index,
      instance: i,
      created,
      agentStart,
      provisioned,
      extra: false,
      keptFileAt: Infinity,
      succeeded: o.overprovision ? Infinity : provisioned,
      deleting: Infinity,
      gone: Infinity,
    };
    vms.push(vm);
    mine.push(vm);
    draws.push(r);
  }
  if (!o.overprovision) {
    const completed = Math.max(...mine.map((v) => v.succeeded));
    return { index, requested: n, released: NaN, completed, rbacReady: rbacReady(o, completed) };
  }
  const hold = o.hold ?? HOLD_MODEL;
  const by = (key: "created" | "agentStart" | "provisioned") => [...mine].sort((a, b) => a[key] - b[key]);
  let kept: VmTimeline[];
  let released: number;
  let cull: number;
  switch (hold) {
    case "creation":
      kept = by("created").slice(0, n);
      released = -Infinity;
      cull = nth(
        mine.map((v) => v.provisioned),
        n,
      );
      break;
    case "booted":
      kept = by("agentStart").slice(0, n);
      released = kept[n - 1].agentStart;
      cull = released;
      break;
    case "provisioned":
      kept = by("provisioned").slice(0, n);
      released = kept[n - 1].provisioned;
      cull = released;
      break;
    case "all":
      kept = by("provisioned").slice(0, n);
      released = Math.max(...mine.map((v) => v.provisioned));
      cull = released;
      break;
    default: {
      const never: never = hold;
      throw new Error(`unknown hold model ${never}`);
    }
  }
  const keptSet = new Set(kept);
  const deleteAt = cull + DELETE_START_S * 1000;
  let completed = 0;
  mine.forEach((vm, i) => {
    const r = draws[i];
    if (keptSet.has(vm)) {
      const start = Math.max(vm.provisioned, released) + r.uniform(0, GOAL_STATE_PERIOD_S) * 1000;
      vm.keptFileAt = start + r.lognormal(EXTENSION_FILE_MEDIAN_S, EXTENSION_FILE_SIGMA) * 1000;
      vm.succeeded = vm.keptFileAt + r.lognormal(EXTENSION_REPORT_MEDIAN_S, EXTENSION_REPORT_SIGMA) * 1000;
      completed = Math.max(completed, vm.succeeded);
      return;
    }
    vm.extra = true;
    vm.deleting = deleteAt;
    vm.gone = deleteAt + r.lognormal(DELETE_MEDIAN_S, 0.3) * 1000;
    // An extra still being created at the cull never finishes provisioning.
    if (vm.provisioned >= deleteAt) vm.provisioned = Infinity;
    if (o.extrasReadSucceeded ?? EXTRAS_READ_SUCCEEDED) vm.succeeded = vm.provisioned;
    completed = Math.max(completed, vm.gone);
  });
  return { index, requested: n, released, completed, rbacReady: rbacReady(o, completed) };
}

function rbacReady(o: DeploymentOptions, completed: number): number {
  if (!o.first) return -Infinity;
  return completed + (ROLE_ASSIGNMENT_CREATE_S + (o.rbacPropagationS ?? RBAC_PROPAGATION_S)) * 1000;
}

export function planDeployment(o: DeploymentOptions): Deployment {
  const rng = new Rng(o.seed);
  const vms: VmTimeline[] = [];
  const scaleSets: ScaleSetPlan[] = [];
  for (let j = 0; j < (o.scaleSets ?? 1); j++) scaleSets.push(planScaleSet(o, j, rng.fork(), vms));
  return { first: o.first, overprovision: o.overprovision, scaleSets, vms };
}

/** The instance's provisioningState at t, or null once it is gone (ARM answers 404). */
export function vmStateAt(vm: VmTimeline, t: number): string | null {
  if (t >= vm.gone) return null;
  if (t >= vm.deleting) return "Deleting";
  if (t >= vm.succeeded) return "Succeeded";
  return "Creating";
}

/** The scale set's provisioningState at t: Updating while its operation (and the cull) runs. */
export function scaleSetStateAt(s: ScaleSetPlan, t: number): string {
  return t >= s.completed ? "Succeeded" : "Updating";
}

/** The earliest moment a waiter could start this kept VM's worker: Succeeded, its kept file, and RBAC. */
export function readyAt(d: Deployment, vm: VmTimeline): number {
  const proof = d.overprovision ? vm.keptFileAt : -Infinity;
  return Math.max(vm.succeeded, proof, d.scaleSets[vm.scaleSet].rbacReady);
}
