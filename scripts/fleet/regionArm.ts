/**
 * ARM and Compute as a simulated region (./region.ts) answers an instance's waiter. ARM takes its
 * tokens first (a 429 from ARM costs Compute nothing); on a first deployment it then answers 403
 * until the scale set's role assignment has propagated; Compute takes its tokens after.
 */
import type { HttpRequest, HttpResult } from "../../agent/src/core/types";
import { COMPUTE_POLICY, RATE_LIMIT_HEADER, armError, computeRemaining } from "../../testkit/fake-azure/wire";
import { ARM_MIN_RETRY_AFTER_S, COMPUTE_API_VERSION, COMPUTE_RETRY_AFTER_S } from "./constants";
import { Deployment, VmTimeline, scaleSetStateAt, vmStateAt } from "./platform";
import type { PrincipalBuckets, RegionBuckets, RegionCounters, VmBuckets } from "./regionBuckets";
import {
  SUBSCRIPTION_ID,
  cached,
  response,
  scaleSetBody,
  scaleSetId,
  vmBody,
  vmResourceId,
  withHeaders,
} from "./regionWire";
import type { TokenBucket } from "./sim";

export class SimulatedArm {
  private readonly byPath = new Map<string, VmTimeline>();
  private readonly scaleSetPaths = new Map<string, number>();

  constructor(
    private readonly deployment: Deployment,
    private readonly buckets: RegionBuckets,
    private readonly counters: RegionCounters,
    /** Whether a 403 is counted against ARM's read buckets and reports their counts (constants.ts FORBIDDEN_COUNTED). */
    private readonly forbiddenCounted: boolean,
  ) {
    for (const vm of deployment.vms) this.byPath.set(vmResourceId(vm).toLowerCase(), vm);
    deployment.scaleSets.forEach((s) => this.scaleSetPaths.set(scaleSetId(s.index).toLowerCase(), s.index));
  }

  /** What ARM answers `vm`'s request at `now` (virtual ms). */
  answer(vm: VmTimeline, req: HttpRequest, now: number): HttpResult {
    this.counters.armReads++;
    const mine = this.buckets.forVm(vm, now);
    if (now < mine.notBefore) this.counters.earlyRetries++;
    const auth = req.headers["Authorization"] ?? req.headers["authorization"] ?? "";
    if (!auth.startsWith("Bearer ")) return response(401, armError.missingAuthorization());
    const url = new URL(req.url);
    const path = url.pathname.toLowerCase().replace(/\/+$/, "");
    const principal = this.buckets.principals[vm.scaleSet];
    const scaleSet = this.deployment.scaleSets[vm.scaleSet];
    if (path === "/subscriptions") return this.tenantRead(principal, mine, now);
    const forbidden = now < scaleSet.rbacReady;
    if (forbidden && !this.forbiddenCounted) return this.forbid(vm, {});
    const arm = [principal.reads, this.buckets.globalReads];
    if (!arm.every((b) => b.canTake(now))) {
      const wait = Math.max(...arm.map((b) => b.msUntilToken(now)));
      const retryAfter = Math.max(ARM_MIN_RETRY_AFTER_S, Math.ceil(wait / 1000));
      this.counters.throttledByArm++;
      mine.notBefore = now + retryAfter * 1000;
      return response(429, armError.throttled(), { "retry-after": String(retryAfter), ...this.armCounts(vm, now) });
    }
    for (const b of arm) b.take(now);
    const counts = this.armCounts(vm, now);
    if (forbidden) return this.forbid(vm, counts);
    if (url.searchParams.get("api-version") !== COMPUTE_API_VERSION) {
      const message = `The api-version '${url.searchParams.get("api-version")}' is invalid.`;
      return response(400, { error: { code: "InvalidApiVersionParameter", message } }, counts);
    }
    const target = this.byPath.get(path);
    if (target) {
      const buckets: Array<[string, TokenBucket]> = [
        [COMPUTE_POLICY.vmPerVm, this.buckets.forVm(target, now).compute],
        [COMPUTE_POLICY.vmPerSubscription, this.buckets.computeSubscription],
      ];
      return this.compute(buckets, mine, counts, now, () => {
        const state = vmStateAt(target, now);
        if (state === null) return response(404, armError.instanceNotFound(), counts);
        return cached(200, `${state} ${target.index}`, () => vmBody(target, state), counts);
      });
    }
    const set = this.scaleSetPaths.get(path);
    if (set !== undefined) {
      this.counters.scaleSetReads++;
      const buckets: Array<[string, TokenBucket]> = [
        [COMPUTE_POLICY.scaleSetPerScaleSet, this.buckets.principals[set].lowCostGetVmss],
        [COMPUTE_POLICY.scaleSetPerSubscription, this.buckets.lowCostSubscription],
      ];
      return this.compute(buckets, mine, counts, now, () =>
        response(200, scaleSetBody(set, scaleSetStateAt(this.deployment.scaleSets[set], now)), counts),
      );
    }
    return response(404, armError.instanceNotFound(), counts);
  }

  private armCounts(vm: VmTimeline, now: number): Record<string, string> {
    return {
      [RATE_LIMIT_HEADER.principalReads]: String(this.buckets.principals[vm.scaleSet].reads.remaining(now)),
      [RATE_LIMIT_HEADER.subscriptionReads]: String(this.buckets.globalReads.remaining(now)),
    };
  }

  private forbid(vm: VmTimeline, counts: Record<string, string>): HttpResult {
    this.counters.forbidden++;
    return cached(403, `403 ${vm.index}`, () => armError.authorizationFailed(vmResourceId(vm)), counts);
  }

  /** GET /subscriptions (`az login --identity`): the principal's tenant bucket. */
  private tenantRead(principal: PrincipalBuckets, mine: VmBuckets, now: number): HttpResult {
    if (!principal.tenantReads.take(now)) {
      const retryAfter = Math.max(ARM_MIN_RETRY_AFTER_S, Math.ceil(principal.tenantReads.msUntilToken(now) / 1000));
      this.counters.throttledByArm++;
      mine.notBefore = now + retryAfter * 1000;
      return response(429, armError.throttled(), { "retry-after": String(retryAfter) });
    }
    const headers = { [RATE_LIMIT_HEADER.tenantReads]: String(principal.tenantReads.remaining(now)) };
    return response(200, { value: [{ id: `/subscriptions/${SUBSCRIPTION_ID}`, state: "Enabled" }] }, headers);
  }

  /** Compute's buckets after ARM's: every one must hold a token, or none is taken and the answer is 429. */
  private compute(
    buckets: Array<[string, TokenBucket]>,
    caller: VmBuckets,
    counts: Record<string, string>,
    now: number,
    ok: () => HttpResult,
  ): HttpResult {
    const empty = buckets.find(([, b]) => !b.canTake(now));
    if (!empty) for (const [, b] of buckets) b.take(now);
    const headers = {
      ...counts,
      [RATE_LIMIT_HEADER.compute]: computeRemaining(buckets.map(([name, b]) => [name, b.remaining(now)])),
    };
    if (!empty) return withHeaders(ok(), headers);
    this.counters.throttledByCompute++;
    caller.notBefore = now + COMPUTE_RETRY_AFTER_S * 1000;
    return response(429, armError.computeThrottled(empty[0]), {
      ...headers,
      "retry-after": String(COMPUTE_RETRY_AFTER_S),
    });
  }
}
