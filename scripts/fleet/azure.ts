/**
 * Simulated IMDS and ARM for a whole scale set, in virtual time, speaking the wire formats the
 * agent parses (the same ones testkit/fake-azure plays): IMDS text and JSON metadata, the
 * managed-identity token with its numbers as strings, ARM GETs of the instance and the scale
 * set at api-version 2024-11-01, and 429 + Retry-After when a documented bucket is empty.
 */
import type { Env, HttpRequest, HttpResult } from "../../agent/src/core/types";
import {
  ARM_MIN_RETRY_AFTER_S,
  ARM_RTT_MEDIAN_MS,
  ARM_RTT_SIGMA,
  ARM_SUBSCRIPTION_READ_BUCKET,
  ARM_SUBSCRIPTION_READ_REFILL_PER_S,
  ARM_TENANT_READ_BUCKET,
  ARM_TENANT_READ_REFILL_PER_S,
  COMPUTE_API_VERSION,
  COMPUTE_GET_VMSS_BUCKET,
  COMPUTE_GET_VMSS_REFILL_PER_MIN,
  COMPUTE_GET_VMSS_SUB_BUCKET,
  COMPUTE_GET_VMSS_SUB_REFILL_PER_MIN,
  COMPUTE_GET_VMSS_VM_BUCKET,
  COMPUTE_GET_VMSS_VM_REFILL_PER_MIN,
  COMPUTE_GET_VMSS_VM_SUB_BUCKET,
  COMPUTE_GET_VMSS_VM_SUB_REFILL_PER_MIN,
  COMPUTE_RETRY_AFTER_S,
  IMDS_RTT_MS,
  MI_TOKEN_LIFETIME_S,
} from "./constants";
import { ScaleOut, VmTimeline, scaleSetStateAt, vmStateAt } from "./platform";
import { EventLoop, Rng, TokenBucket } from "./sim";

export const IMDS_URL = "http://169.254.169.254";
export const ARM_URL = "https://management.azure.com";
export const SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const RESOURCE_GROUP = "rg-hpc";
export const SCALE_SET = "workers";
export const SCALE_SET_ID = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Compute/virtualMachineScaleSets/${SCALE_SET}`;
export const vmResourceId = (index: number): string => `${SCALE_SET_ID}/virtualMachines/${index}`;
/** The instance's vmId (IMDS compute/vmId, and what the extension writes to the kept file). */
export const vmUuid = (index: number): string => `00000000-0000-0000-0000-${String(index).padStart(12, "0")}`;

const perMin = (n: number): number => n / 60_000;
const perS = (n: number): number => n / 1000;

export interface AzureCounters {
  /** Every request that reached ARM, throttled or not. */
  armReads: number;
  /** 429s by who sent them. */
  throttledByArm: number;
  throttledByCompute: number;
  /** Calls sent before the Retry-After of an earlier 429 to the same VM had elapsed. */
  earlyRetries: number;
  imdsCalls: number;
  /** Scale-set GETs (the overprovisioning check), throttled or not. */
  scaleSetReads: number;
}

export interface AzureOptions {
  /**
   * What-if: also charge scale-set GETs to Compute's per-scale-set "Low Cost Get VMSS" buckets
   * (36 +12/min per scale set, 2,400 +800/min per subscription). Off by default: the headline
   * models the three buckets issue 7 lists, so a scale-set GET costs one ARM read and one token
   * of the 6,000 +2,000/min subscription Compute bucket.
   */
  scaleSetBucket?: boolean;
  /** Sees every ARM call (virtual ms, HTTP status, principal reads left): for tracing a policy. */
  onArmCall?: (t: number, status: number, remaining: number) => void;
}

/** One simulated region: the platform timeline plus every throttling bucket the fleet shares. */
export class FakeAzure {
  readonly counters: AzureCounters = {
    armReads: 0,
    throttledByArm: 0,
    throttledByCompute: 0,
    earlyRetries: 0,
    imdsCalls: 0,
    scaleSetReads: 0,
  };
  private readonly armReads: TokenBucket;
  private readonly tenantReads: TokenBucket;
  private readonly vmssVmSub: TokenBucket;
  private readonly vmssSub: TokenBucket;
  private readonly vmssResource: TokenBucket;
  private readonly vmBuckets = new Map<number, TokenBucket>();
  /** Per VM, the earliest time its last 429 allowed a retry. */
  private readonly notBefore = new Map<number, number>();
  private readonly scaleSetBucket: boolean;
  private readonly onArmCall?: AzureOptions["onArmCall"];

  constructor(
    readonly loop: EventLoop,
    readonly scaleOut: ScaleOut,
    private readonly rng: Rng,
    opts: AzureOptions = {},
  ) {
    const now = loop.now();
    this.scaleSetBucket = opts.scaleSetBucket ?? false;
    this.onArmCall = opts.onArmCall;
    // One principal (the scale set's system-assigned identity) makes every call below.
    this.armReads = new TokenBucket(ARM_SUBSCRIPTION_READ_BUCKET, perS(ARM_SUBSCRIPTION_READ_REFILL_PER_S), now);
    this.tenantReads = new TokenBucket(ARM_TENANT_READ_BUCKET, perS(ARM_TENANT_READ_REFILL_PER_S), now);
    this.vmssVmSub = new TokenBucket(
      COMPUTE_GET_VMSS_VM_SUB_BUCKET,
      perMin(COMPUTE_GET_VMSS_VM_SUB_REFILL_PER_MIN),
      now,
    );
    this.vmssSub = new TokenBucket(COMPUTE_GET_VMSS_SUB_BUCKET, perMin(COMPUTE_GET_VMSS_SUB_REFILL_PER_MIN), now);
    this.vmssResource = new TokenBucket(COMPUTE_GET_VMSS_BUCKET, perMin(COMPUTE_GET_VMSS_REFILL_PER_MIN), now);
  }

  private vmBucket(index: number): TokenBucket {
    let b = this.vmBuckets.get(index);
    if (!b) {
      // The bucket exists from the instance's creation, full; by the first read it is full anyway.
      b = new TokenBucket(COMPUTE_GET_VMSS_VM_BUCKET, perMin(COMPUTE_GET_VMSS_VM_REFILL_PER_MIN), this.loop.now());
      this.vmBuckets.set(index, b);
    }
    return b;
  }

  /** The subscription read budget left now (for the report and the tests). */
  armReadsRemaining(): number {
    return this.armReads.remaining(this.loop.now());
  }

  /** An Env for one instance: virtual clock, its own seeded randomness, and a transport into this region. Once the VM is gone (powered off) nothing it awaits ever resolves. */
  envFor(vm: VmTimeline, log: (line: string) => void = () => undefined): Env {
    const r = this.rng.fork();
    const alive = (): boolean => this.loop.now() < vm.gone;
    return {
      now: () => this.loop.now(),
      random: () => r.next(),
      log,
      sleep: (ms) =>
        new Promise((resolve) => {
          this.loop.at(this.loop.now() + Math.max(0, ms), () => {
            if (alive()) resolve();
          });
        }),
      // The kept file (--kept-file): the extension writes it, with the VM's vmId, only on kept VMs,
      // and (an assumption the fleet model may refine) at the VM's Succeeded; extras never get it.
      readFile: () => Promise.resolve(!vm.extra && this.loop.now() >= vm.succeeded ? vmUuid(vm.index) : undefined),
      request: (req) =>
        new Promise((resolve) => {
          if (!alive()) return;
          const { result, rttMs } = this.handle(vm, req, r);
          this.loop.at(this.loop.now() + rttMs, () => {
            if (alive()) resolve(result);
          });
        }),
    };
  }

  private handle(vm: VmTimeline, req: HttpRequest, r: Rng): { result: HttpResult; rttMs: number } {
    if (req.url.startsWith(IMDS_URL)) {
      this.counters.imdsCalls++;
      return { result: this.imds(vm, req), rttMs: IMDS_RTT_MS };
    }
    const rttMs = r.lognormal(ARM_RTT_MEDIAN_MS, ARM_RTT_SIGMA);
    if (rttMs > req.timeoutMs)
      return { result: { kind: "error", code: "ETIMEDOUT", message: "request timed out" }, rttMs: req.timeoutMs };
    const result = this.arm(vm, req);
    if (this.onArmCall && result.kind === "response")
      this.onArmCall(this.loop.now(), result.status, this.armReads.remaining(this.loop.now()));
    return { result, rttMs };
  }

  private imds(vm: VmTimeline, req: HttpRequest): HttpResult {
    if ((req.headers["Metadata"] ?? req.headers["metadata"]) !== "true") {
      return json(400, { error: "Bad request. Required metadata header not specified" });
    }
    const url = new URL(req.url);
    if (url.pathname === "/metadata/identity/oauth2/token") {
      const now = Math.floor(this.loop.now() / 1000);
      return json(200, {
        access_token: `sim-token-${vm.index}`,
        client_id: "22222222-0000-0000-0000-000000000000",
        expires_in: String(MI_TOKEN_LIFETIME_S),
        expires_on: String(now + MI_TOKEN_LIFETIME_S),
        ext_expires_in: String(MI_TOKEN_LIFETIME_S),
        not_before: String(now),
        resource: url.searchParams.get("resource") ?? "",
        token_type: "Bearer",
      });
    }
    if (url.pathname.startsWith("/metadata/instance")) {
      const doc = instanceMetadata(vm);
      let node: unknown = doc;
      for (const part of url.pathname.slice("/metadata/instance".length).split("/").filter(Boolean)) {
        node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
      }
      if (node === undefined) return { kind: "response", status: 404, headers: {}, body: "Not found" };
      if (url.searchParams.get("format") === "text") {
        return {
          kind: "response",
          status: 200,
          headers: { "content-type": "text/plain; charset=utf-8" },
          body: String(node),
        };
      }
      return json(200, node);
    }
    return { kind: "response", status: 404, headers: {}, body: "Not found" };
  }

  private arm(vm: VmTimeline, req: HttpRequest): HttpResult {
    const now = this.loop.now();
    this.counters.armReads++;
    const nb = this.notBefore.get(vm.index);
    if (nb !== undefined && now < nb) this.counters.earlyRetries++;
    const url = new URL(req.url);
    const auth = req.headers["Authorization"] ?? req.headers["authorization"] ?? "";
    if (!auth.startsWith("Bearer ")) {
      return json(401, {
        error: {
          code: "AuthenticationFailed",
          message: "Authentication failed. The 'Authorization' header is missing.",
        },
      });
    }
    const path = url.pathname.toLowerCase().replace(/\/+$/, "");
    const tenantLevel = path === "/subscriptions";
    const bucket = tenantLevel ? this.tenantReads : this.armReads;
    // A refused call takes no token: ARM does not say, and this is the kinder reading for a
    // client that retries hard (the tutorial's CLI); the agent's numbers do not depend on it.
    if (!bucket.take(now)) {
      const retryAfter = Math.max(ARM_MIN_RETRY_AFTER_S, Math.ceil(bucket.msUntilToken(now) / 1000));
      this.counters.throttledByArm++;
      this.notBefore.set(vm.index, now + retryAfter * 1000);
      return json(
        429,
        {
          error: {
            code: "TooManyRequests",
            message:
              "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:00:01. For more information, see - https://aka.ms/armthrottling",
          },
        },
        {
          "retry-after": String(retryAfter),
          [tenantLevel ? "x-ms-ratelimit-remaining-tenant-reads" : "x-ms-ratelimit-remaining-subscription-reads"]: "0",
        },
      );
    }
    const armHeaders: Record<string, string> = {
      [tenantLevel ? "x-ms-ratelimit-remaining-tenant-reads" : "x-ms-ratelimit-remaining-subscription-reads"]: String(
        bucket.remaining(now),
      ),
      "x-ms-request-id": `sim-${this.counters.armReads}`,
    };
    if (tenantLevel) {
      return json(
        200,
        { value: [{ id: `/subscriptions/${SUBSCRIPTION_ID}`, subscriptionId: SUBSCRIPTION_ID, state: "Enabled" }] },
        armHeaders,
      );
    }
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion !== COMPUTE_API_VERSION) {
      return json(
        400,
        { error: { code: "InvalidApiVersionParameter", message: `The api-version '${apiVersion}' is invalid.` } },
        armHeaders,
      );
    }
    const scaleSetId = SCALE_SET_ID.toLowerCase();
    const m = /\/virtualmachines\/(\d+)$/.exec(path);
    if (path.startsWith(scaleSetId + "/virtualmachines/") && m) {
      const target = this.scaleOut.vms[Number(m[1])];
      if (!target) return notFound(armHeaders);
      return this.compute(
        [this.vmBucket(target.index), this.vmssVmSub],
        ["Microsoft.Compute/GetVMScaleSetVM", "Microsoft.Compute/GetVMScaleSetVMSubscription"],
        vm,
        armHeaders,
        () => {
          const state = vmStateAt(target, now);
          if (state === null) return notFound(armHeaders);
          return json(200, vmBody(target, state), armHeaders);
        },
      );
    }
    if (path === scaleSetId) {
      this.counters.scaleSetReads++;
      const buckets = this.scaleSetBucket ? [this.vmssResource, this.vmssSub] : [this.vmssVmSub];
      const names = this.scaleSetBucket
        ? ["Microsoft.Compute/GetVMScaleSet", "Microsoft.Compute/GetVMScaleSetSubscription"]
        : ["Microsoft.Compute/GetVMScaleSetVMSubscription"];
      return this.compute(buckets, names, vm, armHeaders, () =>
        json(200, scaleSetBody(this.scaleOut, scaleSetStateAt(this.scaleOut, now)), armHeaders),
      );
    }
    return notFound(armHeaders);
  }

  /** Compute's own policies after ARM's: every bucket must hold a token, or nothing is taken and the answer is 429. */
  private compute(
    buckets: TokenBucket[],
    names: string[],
    caller: VmTimeline,
    armHeaders: Record<string, string>,
    ok: () => HttpResult,
  ): HttpResult {
    const now = this.loop.now();
    const throttled = buckets.some((b) => !b.canTake(now));
    if (!throttled) for (const b of buckets) b.take(now);
    const remaining = names.map((n, i) => `${n};${buckets[i].remaining(now)}`).join(",");
    const headers = {
      ...armHeaders,
      "x-ms-ratelimit-remaining-resource": remaining,
      "x-ms-request-charge": throttled ? "0" : "1",
    };
    if (throttled) {
      this.counters.throttledByCompute++;
      this.notBefore.set(caller.index, now + COMPUTE_RETRY_AFTER_S * 1000);
      return json(
        429,
        {
          error: {
            code: "OperationNotAllowed",
            message:
              "The server rejected the request because too many requests have been received for this subscription.",
            details: [{ code: "TooManyRequests", target: names[buckets.findIndex((b) => !b.canTake(now))] }],
          },
        },
        { ...headers, "retry-after": String(COMPUTE_RETRY_AFTER_S) },
      );
    }
    return ok();
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    kind: "response",
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

function notFound(headers: Record<string, string>): HttpResult {
  return json(
    404,
    { error: { code: "NotFound", message: "The entity was not found in this Azure location." } },
    headers,
  );
}

/** The IMDS instance document, trimmed to what a waiter could use (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service). */
function instanceMetadata(vm: VmTimeline): Record<string, unknown> {
  return {
    compute: {
      azEnvironment: "AzurePublicCloud",
      location: "westeurope",
      name: `${SCALE_SET}_${vm.index}`,
      resourceGroupName: RESOURCE_GROUP,
      resourceId: vmResourceId(vm.index),
      subscriptionId: SUBSCRIPTION_ID,
      vmId: vmUuid(vm.index),
      vmScaleSetName: SCALE_SET,
    },
    network: { interface: [] },
  };
}

function vmBody(vm: VmTimeline, state: string): Record<string, unknown> {
  return {
    name: `${SCALE_SET}_${vm.index}`,
    id: vmResourceId(vm.index),
    type: "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    instanceId: String(vm.index),
    location: "westeurope",
    properties: {
      latestModelApplied: true,
      provisioningState: state,
      vmId: vmUuid(vm.index),
    },
  };
}

function scaleSetBody(s: ScaleOut, state: string): Record<string, unknown> {
  return {
    name: SCALE_SET,
    id: SCALE_SET_ID,
    type: "Microsoft.Compute/virtualMachineScaleSets",
    location: "westeurope",
    sku: { name: "Standard_D2s_v5", tier: "Standard", capacity: s.requested },
    properties: { overprovision: s.vms.length > s.requested, orchestrationMode: "Uniform", provisioningState: state },
  };
}
