/**
 * One simulated scale-out with one policy on every instance: build the fleet from the seed,
 * start each instance's waiter when it boots, run virtual time until every waiter has ended
 * (or its VM is gone), and measure.
 */
import type { Env, Outcome, WaiterOptions } from "../../agent/src/core/types";
import { KEPT_FILE_PATH } from "../../components/defaults";
import { FakeAzure, IMDS_URL } from "./azure";
import { boundLatenciesMs, quantile } from "./bound";
import { ScaleOut, planScaleOut } from "./platform";
import { EventLoop, Rng } from "./sim";

export type Waiter = (env: Env, opts: WaiterOptions) => Promise<Outcome>;

/** 2026-01-01T00:00:00Z: a real epoch, so expires_on and HTTP dates mean what they say. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);
/** The waiter's --timeout in the simulation: long enough that only a broken policy meets it. */
export const SIM_TIMEOUT_S = 3 * 3600;

export interface FleetOptions {
  requested: number;
  overprovision: boolean;
  seed: number;
  /**
   * Pass --kept-file to the waiter (the launcher does when the scale set overprovisions): a kept
   * VM's file appears at its Succeeded, an extra never gets one (azure.ts envFor).
   */
  gate: boolean;
  scaleSetBucket?: boolean;
  /** Instances whose creation starts per second (platform.ts). */
  createPerS?: number;
  onArmCall?: (t: number, status: number, remaining: number) => void;
}

export interface FleetResult {
  requested: number;
  total: number;
  /** Succeeded → worker start, ms, for kept instances whose worker started. */
  latencies: number[];
  p50: number;
  p99: number;
  max: number;
  /** Kept instances whose waiter did not start the worker (timeout, failure, gone). */
  notStarted: number;
  /** Workers started on instances the platform deleted afterwards. */
  workersOnDeleted: number;
  armReadsPerVm: number;
  throttled: number;
  earlyRetries: number;
  scaleSetReads: number;
  bound: { p50: number; p99: number; max: number };
  outcomes: Record<string, number>;
  virtualSeconds: number;
  events: number;
}

export async function runFleet(waiter: Waiter, o: FleetOptions): Promise<FleetResult> {
  const scaleOut: ScaleOut = planScaleOut({
    requested: o.requested,
    overprovision: o.overprovision,
    seed: o.seed,
    start: SIM_EPOCH_MS,
    createPerS: o.createPerS,
  });
  const loop = new EventLoop(SIM_EPOCH_MS);
  // The environment's randomness (RTTs, jitter) has its own stream, apart from the fleet plan.
  const azure = new FakeAzure(loop, scaleOut, new Rng(o.seed ^ 0x5eed), {
    scaleSetBucket: o.scaleSetBucket,
    onArmCall: o.onArmCall,
  });
  const startedAt = new Map<number, number>();
  const outcomes: Record<string, number> = {};
  const ended = new Set<number>();
  let pending = scaleOut.vms.length;
  const end = (index: number): void => {
    if (!ended.has(index)) {
      ended.add(index);
      pending--;
    }
  };
  const opts: WaiterOptions = {
    imdsUrl: IMDS_URL,
    timeoutSeconds: SIM_TIMEOUT_S,
    keptFile: o.gate ? KEPT_FILE_PATH : undefined,
  };

  for (const vm of scaleOut.vms) {
    // An instance that vanishes has no more process: count it as ended when it goes.
    if (vm.gone !== Infinity) loop.at(vm.gone, () => end(vm.index));
    loop.at(vm.agentStart, () => {
      const env = azure.envFor(vm);
      waiter(env, opts).then(
        (out) => {
          if (ended.has(vm.index)) return;
          outcomes[out.kind] = (outcomes[out.kind] ?? 0) + 1;
          if (out.kind === "succeeded") startedAt.set(vm.index, loop.now());
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

  const latencies: number[] = [];
  let notStarted = 0;
  let workersOnDeleted = 0;
  for (const vm of scaleOut.vms) {
    const t = startedAt.get(vm.index);
    if (vm.extra) {
      if (t !== undefined) workersOnDeleted++;
    } else if (t === undefined) notStarted++;
    else latencies.push(t - vm.succeeded);
  }
  const bound = boundLatenciesMs(scaleOut, { gate: o.gate, scaleSetBucket: o.scaleSetBucket });
  const c = azure.counters;
  return {
    requested: o.requested,
    total: scaleOut.vms.length,
    latencies,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: quantile(latencies, 1),
    notStarted,
    workersOnDeleted,
    armReadsPerVm: c.armReads / scaleOut.vms.length,
    throttled: c.throttledByArm + c.throttledByCompute,
    earlyRetries: c.earlyRetries,
    scaleSetReads: c.scaleSetReads,
    bound: { p50: quantile(bound, 0.5), p99: quantile(bound, 0.99), max: quantile(bound, 1) },
    outcomes,
    virtualSeconds: (loop.now() - SIM_EPOCH_MS) / 1000,
    events: loop.events,
  };
}
