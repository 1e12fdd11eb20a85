/**
 * A simulated Azure region for a whole deployment, in virtual time: IMDS (./regionImds.ts) and ARM
 * (./regionArm.ts) for every instance of every scale set, enforcing every throttling bucket Azure
 * documents (./regionBuckets.ts; one source: testkit/azureLimits.ts) and speaking the wire formats of
 * testkit/fake-azure (./wire.ts there; this fleet's names and bodies: ./regionWire.ts). This file gives
 * each instance its Env on the one shared event loop, and routes its requests.
 */
import type { Env, HttpRequest, HttpResult } from "../../agent/src/core/types";
import { ARM_RTT_MEDIAN_MS, ARM_RTT_SIGMA, FORBIDDEN_COUNTED } from "./constants";
import { Deployment, VmTimeline } from "./platform";
import { SimulatedArm } from "./regionArm";
import { RegionBuckets, RegionCounters } from "./regionBuckets";
import { TimedAnswer, answerImds } from "./regionImds";
import { IMDS_URL, vmUuid } from "./regionWire";
import { EventLoop, Rng } from "./sim";

export { ARM_URL, IMDS_URL, RESOURCE_GROUP, SUBSCRIPTION_ID, scaleSetId, vmResourceId, vmUuid } from "./regionWire";
export type { RegionCounters } from "./regionBuckets";

export interface RegionOptions {
  /** Whether a 403 is counted against ARM's read buckets and reports their counts (constants.ts FORBIDDEN_COUNTED). */
  forbiddenCounted?: boolean;
  /** Sees every ARM answer (virtual ms, the answer): for tracing a policy. */
  onArmCall?: (t: number, res: HttpResult & { kind: "response" }) => void;
}

/** One simulated region: the platform's timeline plus every throttling bucket the fleet shares. */
export class SimulatedRegion {
  readonly counters: RegionCounters = {
    armReads: 0,
    throttledByArm: 0,
    throttledByCompute: 0,
    throttledByImds: 0,
    forbidden: 0,
    earlyRetries: 0,
    imdsCalls: 0,
    scaleSetReads: 0,
  };
  private readonly buckets: RegionBuckets;
  private readonly arm: SimulatedArm;
  private readonly onArmCall?: RegionOptions["onArmCall"];

  constructor(
    readonly loop: EventLoop,
    readonly deployment: Deployment,
    private readonly rng: Rng,
    opts: RegionOptions = {},
  ) {
    this.onArmCall = opts.onArmCall;
    this.buckets = new RegionBuckets(deployment.scaleSets.length, loop.now());
    this.arm = new SimulatedArm(deployment, this.buckets, this.counters, opts.forbiddenCounted ?? FORBIDDEN_COUNTED);
  }

  /** The scale set's principal's reads left now (for the report and the tests). */
  principalReadsRemaining(scaleSet = 0): number {
    return this.buckets.principals[scaleSet].reads.remaining(this.loop.now());
  }

  /**
   * An Env for one instance. Between two requests everything a waiter can observe (the clock,
   * its kept file, whether its VM is still powered) is a function of time alone, so its clock
   * runs ahead through its sleeps at once, and only its requests wait on the shared loop, which
   * answers them at their own time against the shared buckets: exactly what the waiter would
   * see, without a timer per sleep. Once the VM is gone nothing it awaits resolves.
   */
  envFor(vm: VmTimeline, log: (line: string) => void = () => undefined): Env & { now(): number } {
    const r = this.rng.fork();
    let local = this.loop.now();
    const gone = new Promise<never>(() => undefined);
    return {
      now: () => local,
      random: () => r.next(),
      log,
      sleep: (ms) => {
        local += Math.max(0, ms);
        return local >= vm.gone ? gone : Promise.resolve();
      },
      // The extension writes the kept file, with the VM's vmId, only on kept VMs (platform.ts keptFileAt).
      readFile: () => Promise.resolve(local >= vm.keptFileAt ? vmUuid(vm.index) : undefined),
      request: (req) =>
        local >= vm.gone
          ? gone
          : new Promise((resolve) => {
              this.loop.at(local, () => {
                const { result, rttMs, done } = this.handle(vm, req, r);
                this.loop.at(this.loop.now() + rttMs, () => {
                  if (done) done();
                  local = this.loop.now();
                  if (local < vm.gone) resolve(result);
                });
              });
            }),
    };
  }

  private handle(vm: VmTimeline, req: HttpRequest, r: Rng): TimedAnswer {
    const now = this.loop.now();
    if (req.url.startsWith(IMDS_URL)) {
      this.counters.imdsCalls++;
      return answerImds(vm, req, now, this.buckets, this.counters);
    }
    const rttMs = r.lognormal(ARM_RTT_MEDIAN_MS, ARM_RTT_SIGMA);
    if (rttMs > req.timeoutMs)
      return { result: { kind: "error", code: "ETIMEDOUT", message: "request timed out" }, rttMs: req.timeoutMs };
    const result = this.arm.answer(vm, req, now);
    if (this.onArmCall && result.kind === "response") this.onArmCall(now, result);
    return { result, rttMs };
  }
}
