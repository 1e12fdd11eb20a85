/**
 * A simulated Azure region for a whole deployment, in virtual time: IMDS and ARM for every
 * instance of every scale set, enforcing every throttling bucket Azure documents (one source:
 * testkit/azureLimits.ts) and speaking the wire formats of testkit/fake-azure (./wire.ts there):
 *
 * - per VM: IMDS 5/s; managed identity 20/s and 5 in flight; Compute "Get VMSS VMs" 36, +12/min;
 * - per scale set: its identity's ARM reads 250, +25/s (and tenant reads); "Low Cost Get VMSS" 36, +12/min;
 * - per subscription: ARM reads of every principal 3,750, +375/s; "Get VMSS VMs" 6,000, +2,000/min;
 *   "Low Cost Get VMSS" 2,400, +800/min.
 *
 * ARM takes its tokens first (a 429 from ARM costs Compute nothing); on a first deployment it then
 * answers 403 until the scale set's role assignment has propagated; Compute takes its tokens after.
 */
import type { Env, HttpRequest, HttpResult } from "../../agent/src/core/types";
import {
  COMPUTE_POLICY,
  RATE_LIMIT_HEADER,
  armError,
  computeRemaining,
  imdsError,
  jsonAnswer,
  tokenBody,
} from "../../testkit/fake-azure/wire";
import type { BucketLimit } from "../../testkit/azureLimits";
import {
  ARM_MIN_RETRY_AFTER_S,
  ARM_READS_PER_PRINCIPAL,
  ARM_READS_PER_SUBSCRIPTION,
  ARM_RTT_MEDIAN_MS,
  ARM_RTT_SIGMA,
  ARM_TENANT_READS_PER_PRINCIPAL,
  COMPUTE_API_VERSION,
  COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_VM,
  COMPUTE_LOW_COST_GET_VMSS_PER_SCALE_SET,
  COMPUTE_LOW_COST_GET_VMSS_PER_SUBSCRIPTION,
  COMPUTE_RETRY_AFTER_S,
  FORBIDDEN_COUNTED,
  IMDS_REQUESTS_PER_VM,
  IMDS_RTT_MS,
  MANAGED_IDENTITY_CONCURRENT_PER_VM,
  MANAGED_IDENTITY_REQUESTS_PER_VM,
  MI_TOKEN_LIFETIME_S,
} from "./constants";
import { Deployment, VmTimeline, scaleSetStateAt, vmStateAt } from "./platform";
import { EventLoop, Rng, TokenBucket } from "./sim";

export const IMDS_URL = "http://169.254.169.254";
export const ARM_URL = "https://management.azure.com";
export const SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const RESOURCE_GROUP = "rg-hpc";
export const scaleSetId = (j: number): string =>
  `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Compute/virtualMachineScaleSets/workers-${j}`;
export const vmResourceId = (vm: VmTimeline): string => `${scaleSetId(vm.scaleSet)}/virtualMachines/${vm.instance}`;
/** The instance's vmId (IMDS compute/vmId, and what the extension writes to the kept file). */
export const vmUuid = (index: number): string => `00000000-0000-0000-0000-${String(index).padStart(12, "0")}`;

const bucket = (limit: BucketLimit, now: number): TokenBucket =>
  new TokenBucket(limit.capacity, limit.refillPerSecond / 1000, now);

export interface RegionCounters {
  /** Every request that reached ARM, answered or throttled. */
  armReads: number;
  throttledByArm: number;
  throttledByCompute: number;
  throttledByImds: number;
  /** 403s while a role assignment propagated. */
  forbidden: number;
  /** Calls sent before the Retry-After of an earlier 429 to the same VM had elapsed. */
  earlyRetries: number;
  imdsCalls: number;
  /** GETs of a scale set itself (nothing in this project makes one). */
  scaleSetReads: number;
}

export interface RegionOptions {
  /** Whether a 403 is counted against ARM's read buckets and reports their counts (constants.ts FORBIDDEN_COUNTED). */
  forbiddenCounted?: boolean;
  /** Sees every ARM answer (virtual ms, the answer): for tracing a policy. */
  onArmCall?: (t: number, res: HttpResult & { kind: "response" }) => void;
}

interface Principal {
  reads: TokenBucket;
  tenantReads: TokenBucket;
  lowCostGetVmss: TokenBucket;
}

interface PerVm {
  compute: TokenBucket;
  imds: TokenBucket;
  identity: TokenBucket;
  identityInFlight: number;
  /** The earliest time its last 429 allowed a retry. */
  notBefore: number;
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
  private readonly principals: Principal[];
  private readonly globalReads: TokenBucket;
  private readonly computeSubscription: TokenBucket;
  private readonly lowCostSubscription: TokenBucket;
  private readonly perVm = new Map<number, PerVm>();
  private readonly byPath = new Map<string, VmTimeline>();
  private readonly scaleSetPaths = new Map<string, number>();
  private readonly forbiddenCounted: boolean;
  private readonly onArmCall?: RegionOptions["onArmCall"];

  constructor(
    readonly loop: EventLoop,
    readonly deployment: Deployment,
    private readonly rng: Rng,
    opts: RegionOptions = {},
  ) {
    const now = loop.now();
    this.forbiddenCounted = opts.forbiddenCounted ?? FORBIDDEN_COUNTED;
    this.onArmCall = opts.onArmCall;
    this.principals = deployment.scaleSets.map(() => ({
      reads: bucket(ARM_READS_PER_PRINCIPAL, now),
      tenantReads: bucket(ARM_TENANT_READS_PER_PRINCIPAL, now),
      lowCostGetVmss: bucket(COMPUTE_LOW_COST_GET_VMSS_PER_SCALE_SET, now),
    }));
    this.globalReads = bucket(ARM_READS_PER_SUBSCRIPTION, now);
    this.computeSubscription = bucket(COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION, now);
    this.lowCostSubscription = bucket(COMPUTE_LOW_COST_GET_VMSS_PER_SUBSCRIPTION, now);
    for (const vm of deployment.vms) this.byPath.set(vmResourceId(vm).toLowerCase(), vm);
    deployment.scaleSets.forEach((s) => this.scaleSetPaths.set(scaleSetId(s.index).toLowerCase(), s.index));
  }

  private vmState(vm: VmTimeline): PerVm {
    let b = this.perVm.get(vm.index);
    if (!b) {
      // Created at the instance's first call: by then its buckets would be full anyway.
      const now = this.loop.now();
      b = {
        compute: bucket(COMPUTE_GET_VMSS_VM_PER_VM, now),
        imds: bucket(IMDS_REQUESTS_PER_VM, now),
        identity: bucket(MANAGED_IDENTITY_REQUESTS_PER_VM, now),
        identityInFlight: 0,
        notBefore: -Infinity,
      };
      this.perVm.set(vm.index, b);
    }
    return b;
  }

  /** The scale set's principal's reads left now (for the report and the tests). */
  principalReadsRemaining(scaleSet = 0): number {
    return this.principals[scaleSet].reads.remaining(this.loop.now());
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

  private handle(vm: VmTimeline, req: HttpRequest, r: Rng): { result: HttpResult; rttMs: number; done?: () => void } {
    if (req.url.startsWith(IMDS_URL)) {
      this.counters.imdsCalls++;
      return this.imds(vm, req);
    }
    const rttMs = r.lognormal(ARM_RTT_MEDIAN_MS, ARM_RTT_SIGMA);
    if (rttMs > req.timeoutMs)
      return { result: { kind: "error", code: "ETIMEDOUT", message: "request timed out" }, rttMs: req.timeoutMs };
    const result = this.arm(vm, req);
    if (this.onArmCall && result.kind === "response") this.onArmCall(this.loop.now(), result);
    return { result, rttMs };
  }

  private imds(vm: VmTimeline, req: HttpRequest): { result: HttpResult; rttMs: number; done?: () => void } {
    const now = this.loop.now();
    const answer = (a: ReturnType<typeof jsonAnswer>, done?: () => void) => ({
      result: { kind: "response" as const, ...a },
      rttMs: IMDS_RTT_MS,
      done,
    });
    if ((req.headers["Metadata"] ?? req.headers["metadata"]) !== "true")
      return answer(jsonAnswer(400, imdsError.missingMetadataHeader()));
    const state = this.vmState(vm);
    const url = new URL(req.url);
    if (url.pathname === "/metadata/identity/oauth2/token") {
      if (state.identityInFlight >= MANAGED_IDENTITY_CONCURRENT_PER_VM || !state.identity.take(now)) {
        this.counters.throttledByImds++;
        return answer(jsonAnswer(429, imdsError.throttled()));
      }
      state.identityInFlight++;
      const token = `sim-token-${vm.index}`;
      const body = tokenBody(token, now, MI_TOKEN_LIFETIME_S, url.searchParams.get("resource") ?? "");
      return answer(jsonAnswer(200, body), () => state.identityInFlight--);
    }
    if (!state.imds.take(now)) {
      this.counters.throttledByImds++;
      return answer(jsonAnswer(429, imdsError.throttled()));
    }
    if (!url.pathname.startsWith("/metadata/instance")) return answer({ status: 404, headers: {}, body: "Not found" });
    let node: unknown = instanceMetadata(vm);
    for (const part of url.pathname.slice("/metadata/instance".length).split("/").filter(Boolean)) {
      node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
    }
    if (node === undefined) return answer({ status: 404, headers: {}, body: "Not found" });
    if (url.searchParams.get("format") === "text")
      return answer({ status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: String(node) });
    return answer(jsonAnswer(200, node));
  }

  private arm(vm: VmTimeline, req: HttpRequest): HttpResult {
    const now = this.loop.now();
    this.counters.armReads++;
    const mine = this.vmState(vm);
    if (now < mine.notBefore) this.counters.earlyRetries++;
    const auth = req.headers["Authorization"] ?? req.headers["authorization"] ?? "";
    if (!auth.startsWith("Bearer ")) return response(401, armError.missingAuthorization());
    const url = new URL(req.url);
    const path = url.pathname.toLowerCase().replace(/\/+$/, "");
    const principal = this.principals[vm.scaleSet];
    const scaleSet = this.deployment.scaleSets[vm.scaleSet];
    if (path === "/subscriptions") return this.tenantRead(principal, mine);
    const forbidden = now < scaleSet.rbacReady;
    if (forbidden && !this.forbiddenCounted) return this.forbid(vm, {});
    const arm = [principal.reads, this.globalReads];
    if (!arm.every((b) => b.canTake(now))) {
      const wait = Math.max(...arm.map((b) => b.msUntilToken(now)));
      const retryAfter = Math.max(ARM_MIN_RETRY_AFTER_S, Math.ceil(wait / 1000));
      this.counters.throttledByArm++;
      mine.notBefore = now + retryAfter * 1000;
      return response(429, armError.throttled(), { "retry-after": String(retryAfter), ...this.armCounts(vm) });
    }
    for (const b of arm) b.take(now);
    const counts = this.armCounts(vm);
    if (forbidden) return this.forbid(vm, counts);
    if (url.searchParams.get("api-version") !== COMPUTE_API_VERSION) {
      const message = `The api-version '${url.searchParams.get("api-version")}' is invalid.`;
      return response(400, { error: { code: "InvalidApiVersionParameter", message } }, counts);
    }
    const target = this.byPath.get(path);
    if (target) {
      const buckets: Array<[string, TokenBucket]> = [
        [COMPUTE_POLICY.vmPerVm, this.vmState(target).compute],
        [COMPUTE_POLICY.vmPerSubscription, this.computeSubscription],
      ];
      return this.compute(buckets, mine, counts, () => {
        const state = vmStateAt(target, now);
        if (state === null) return response(404, armError.instanceNotFound(), counts);
        return cached(200, `${state} ${target.index}`, () => vmBody(target, state), counts);
      });
    }
    const set = this.scaleSetPaths.get(path);
    if (set !== undefined) {
      this.counters.scaleSetReads++;
      const buckets: Array<[string, TokenBucket]> = [
        [COMPUTE_POLICY.scaleSetPerScaleSet, this.principals[set].lowCostGetVmss],
        [COMPUTE_POLICY.scaleSetPerSubscription, this.lowCostSubscription],
      ];
      return this.compute(buckets, mine, counts, () =>
        response(200, scaleSetBody(set, scaleSetStateAt(this.deployment.scaleSets[set], now)), counts),
      );
    }
    return response(404, armError.instanceNotFound(), counts);
  }

  private armCounts(vm: VmTimeline): Record<string, string> {
    const now = this.loop.now();
    return {
      [RATE_LIMIT_HEADER.principalReads]: String(this.principals[vm.scaleSet].reads.remaining(now)),
      [RATE_LIMIT_HEADER.subscriptionReads]: String(this.globalReads.remaining(now)),
    };
  }

  private forbid(vm: VmTimeline, counts: Record<string, string>): HttpResult {
    this.counters.forbidden++;
    return cached(403, `403 ${vm.index}`, () => armError.authorizationFailed(vmResourceId(vm)), counts);
  }

  /** GET /subscriptions (`az login --identity`): the principal's tenant bucket. */
  private tenantRead(principal: Principal, mine: PerVm): HttpResult {
    const now = this.loop.now();
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
    caller: PerVm,
    counts: Record<string, string>,
    ok: () => HttpResult,
  ): HttpResult {
    const now = this.loop.now();
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

function response(status: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { kind: "response", ...jsonAnswer(status, body, headers) };
}

/** Bodies a large fleet asks for again and again (its VM in a state, its 403), serialised once. */
const bodies = new Map<string, HttpResult>();
function cached(status: number, key: string, body: () => unknown, headers: Record<string, string>): HttpResult {
  let base = bodies.get(key);
  if (!base) {
    base = response(status, body());
    if (bodies.size > 100000) bodies.clear();
    bodies.set(key, base);
  }
  return withHeaders(base, headers);
}

function withHeaders(res: HttpResult, headers: Record<string, string>): HttpResult {
  return res.kind === "response" ? { ...res, headers: { ...res.headers, ...headers } } : res;
}

/** The IMDS instance document, trimmed to what a waiter could use (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service). */
function instanceMetadata(vm: VmTimeline): Record<string, unknown> {
  return {
    compute: {
      azEnvironment: "AzurePublicCloud",
      location: "westeurope",
      name: `workers-${vm.scaleSet}_${vm.instance}`,
      resourceGroupName: RESOURCE_GROUP,
      resourceId: vmResourceId(vm),
      subscriptionId: SUBSCRIPTION_ID,
      vmId: vmUuid(vm.index),
      vmScaleSetName: `workers-${vm.scaleSet}`,
    },
    network: { interface: [] },
  };
}

/** The fields of a Uniform instance the waiter reads, in the shape of the spec's VirtualMachineScaleSetVM_Get example. */
function vmBody(vm: VmTimeline, state: string): Record<string, unknown> {
  return {
    name: `workers-${vm.scaleSet}_${vm.instance}`,
    id: vmResourceId(vm),
    type: "Microsoft.Compute/virtualMachines",
    instanceId: String(vm.instance),
    location: "westeurope",
    properties: { latestModelApplied: true, provisioningState: state, vmId: vmUuid(vm.index) },
  };
}

function scaleSetBody(j: number, state: string): Record<string, unknown> {
  return {
    name: `workers-${j}`,
    id: scaleSetId(j),
    type: "Microsoft.Compute/virtualMachineScaleSets",
    location: "westeurope",
    properties: { overprovision: true, orchestrationMode: "Uniform", provisioningState: state },
  };
}
