/**
 * One simulated deployment with one waiter on every instance: plan the platform's timeline from
 * the seed, start each instance's waiter when it boots, run virtual time until every waiter has
 * ended (or its VM is gone), and measure against the bound.
 */
import type { Env, Outcome, WaiterOptions } from "../../agent/src/core/types";
import { KEPT_FILE_PATH } from "../../components/defaults";
import { boundStartsMs, quantile } from "./bound";
import { Deployment, DeploymentOptions, planDeployment, readyAt } from "./platform";
import { IMDS_URL, RegionOptions, SimulatedRegion } from "./region";
import { EventLoop, Rng } from "./sim";

export type Waiter = (env: Env, opts: WaiterOptions) => Promise<Outcome>;

/** 2026-01-01T00:00:00Z: a real epoch, so expires_on and HTTP dates mean what they say. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);
/** The waiter's --timeout in the simulation: long enough that only a broken policy meets it. */
export const SIM_TIMEOUT_S = 3 * 3600;

export type FleetOptions = Omit<DeploymentOptions, "start"> &
  RegionOptions & {
    /**
     * Pass --kept-file to the waiter, as the launcher does when the scale set overprovisions
     * (default: exactly then). The tutorial's script has no such notion.
     */
    keptFile?: boolean;
  };

/** Quantiles of a latency, in ms. */
export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

export interface FleetResult {
  deployment: Deployment;
  requested: number;
  /** Instances created, extras included. */
  total: number;
  /** Succeeded → worker start, ms, over the kept instances whose worker started. */
  latency: Spread;
  latencies: number[];
  /** Request → worker start, ms. */
  requestToStart: Spread;
  /** Request → the platform's readiness (Succeeded, the kept file and RBAC), ms: what no waiter can beat. */
  requestToReady: Spread;
  /** Succeeded → the bound's earliest start, ms (bound.ts). */
  bound: Spread;
  /** Request → the bound's earliest start, ms. */
  requestToBound: Spread;
  /** Kept instances whose waiter did not start the worker (timeout, failure, gone). */
  notStarted: number;
  /** Workers started on instances the platform deleted afterwards. */
  workersOnExtras: number;
  armReadsPerVm: number;
  throttled: number;
  throttledByArm: number;
  throttledByCompute: number;
  throttledByImds: number;
  forbidden: number;
  earlyRetries: number;
  scaleSetReads: number;
  outcomes: Record<string, number>;
  virtualSeconds: number;
  events: number;
}

export function spread(xs: number[]): Spread {
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: quantile(xs, 1) };
}

export async function runFleet(waiter: Waiter, o: FleetOptions): Promise<FleetResult> {
  const deployment = planDeployment({ ...o, start: SIM_EPOCH_MS });
  const loop = new EventLoop(SIM_EPOCH_MS);
  // The environment's randomness (RTTs, jitter) has its own stream, apart from the plan's.
  const region = new SimulatedRegion(loop, deployment, new Rng(o.seed ^ 0x5eed), o);
  const startedAt = new Map<number, number>();
  const outcomes: Record<string, number> = {};
  const ended = new Set<number>();
  let pending = deployment.vms.length;
  const end = (index: number): void => {
    if (!ended.has(index)) {
      ended.add(index);
      pending--;
    }
  };
  const opts: WaiterOptions = {
    imdsUrl: IMDS_URL,
    timeoutSeconds: SIM_TIMEOUT_S,
    keptFile: (o.keptFile ?? o.overprovision) ? KEPT_FILE_PATH : undefined,
  };
  for (const vm of deployment.vms) {
    // An instance that vanishes has no more process: count it as ended when it goes.
    if (vm.gone !== Infinity) loop.at(vm.gone, () => end(vm.index));
    loop.at(vm.agentStart, () => {
      const env = region.envFor(vm);
      waiter(env, opts).then(
        (out) => {
          if (ended.has(vm.index)) return;
          outcomes[out.kind] = (outcomes[out.kind] ?? 0) + 1;
          // The waiter's own clock: it may have run ahead of the loop through its last sleeps.
          if (out.kind === "succeeded") startedAt.set(vm.index, env.now());
          end(vm.index);
        },
        (err: unknown) => {
          outcomes.threw = (outcomes.threw ?? 0) + 1;
          end(vm.index);
          if (outcomes.threw === 1) console.error(`waiter threw: ${String(err)}`);
        },
      );
    });
  }
  await loop.run(() => pending <= 0, SIM_EPOCH_MS + (SIM_TIMEOUT_S + 60) * 1000);

  const bound = boundStartsMs(deployment);
  const latencies: number[] = [];
  const requestToStart: number[] = [];
  const requestToReady: number[] = [];
  const bounds: number[] = [];
  const requestToBound: number[] = [];
  let notStarted = 0;
  let workersOnExtras = 0;
  for (const vm of deployment.vms) {
    const t = startedAt.get(vm.index);
    if (vm.extra) {
      if (t !== undefined) workersOnExtras++;
      continue;
    }
    requestToReady.push(readyAt(deployment, vm) - SIM_EPOCH_MS);
    bounds.push(bound.get(vm.index)! - vm.succeeded);
    requestToBound.push(bound.get(vm.index)! - SIM_EPOCH_MS);
    if (t === undefined) notStarted++;
    else {
      latencies.push(t - vm.succeeded);
      requestToStart.push(t - SIM_EPOCH_MS);
    }
  }
  const c = region.counters;
  return {
    deployment,
    requested: deployment.scaleSets.reduce((n, s) => n + s.requested, 0),
    total: deployment.vms.length,
    latency: spread(latencies),
    latencies,
    requestToStart: spread(requestToStart),
    requestToReady: spread(requestToReady),
    bound: spread(bounds),
    requestToBound: spread(requestToBound),
    notStarted,
    workersOnExtras,
    armReadsPerVm: c.armReads / deployment.vms.length,
    throttled: c.throttledByArm + c.throttledByCompute + c.throttledByImds,
    throttledByArm: c.throttledByArm,
    throttledByCompute: c.throttledByCompute,
    throttledByImds: c.throttledByImds,
    forbidden: c.forbidden,
    earlyRetries: c.earlyRetries,
    scaleSetReads: c.scaleSetReads,
    outcomes,
    virtualSeconds: (loop.now() - SIM_EPOCH_MS) / 1000,
    events: loop.events,
  };
}
