/**
 * The throttling buckets a simulated region (./region.ts) enforces, one for each limit Azure documents
 * (one source: testkit/azureLimits.ts), and the counts of what the region answered:
 *
 * - per VM: IMDS 5/s; managed identity 20/s and 5 in flight; Compute "Get VMSS VMs" 36, +12/min;
 * - per scale set: its identity's ARM reads 250, +25/s (and tenant reads); "Low Cost Get VMSS" 36, +12/min;
 * - per subscription: ARM reads of every principal 3,750, +375/s; "Get VMSS VMs" 6,000, +2,000/min;
 *   "Low Cost Get VMSS" 2,400, +800/min.
 */
import type { BucketLimit } from "../../testkit/azureLimits";
import {
  ARM_READS_PER_PRINCIPAL,
  ARM_READS_PER_SUBSCRIPTION,
  ARM_TENANT_READS_PER_PRINCIPAL,
  COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_VM,
  COMPUTE_LOW_COST_GET_VMSS_PER_SCALE_SET,
  COMPUTE_LOW_COST_GET_VMSS_PER_SUBSCRIPTION,
  IMDS_REQUESTS_PER_VM,
  MANAGED_IDENTITY_REQUESTS_PER_VM,
} from "./constants";
import type { VmTimeline } from "./platform";
import { TokenBucket } from "./sim";

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

/** A scale set's identity's buckets. */
export interface PrincipalBuckets {
  reads: TokenBucket;
  tenantReads: TokenBucket;
  lowCostGetVmss: TokenBucket;
}

/** One instance's buckets, and until when its last 429 asked it to wait. */
export interface VmBuckets {
  compute: TokenBucket;
  imds: TokenBucket;
  identity: TokenBucket;
  identityInFlight: number;
  /** The earliest time its last 429 allowed a retry. */
  notBefore: number;
}

/** Every bucket of one region: per scale set's principal, per subscription, and per VM from its first call. */
export class RegionBuckets {
  readonly principals: PrincipalBuckets[];
  readonly globalReads: TokenBucket;
  readonly computeSubscription: TokenBucket;
  readonly lowCostSubscription: TokenBucket;
  private readonly perVm = new Map<number, VmBuckets>();

  constructor(scaleSets: number, now: number) {
    this.principals = Array.from({ length: scaleSets }, () => ({
      reads: bucket(ARM_READS_PER_PRINCIPAL, now),
      tenantReads: bucket(ARM_TENANT_READS_PER_PRINCIPAL, now),
      lowCostGetVmss: bucket(COMPUTE_LOW_COST_GET_VMSS_PER_SCALE_SET, now),
    }));
    this.globalReads = bucket(ARM_READS_PER_SUBSCRIPTION, now);
    this.computeSubscription = bucket(COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION, now);
    this.lowCostSubscription = bucket(COMPUTE_LOW_COST_GET_VMSS_PER_SUBSCRIPTION, now);
  }

  forVm(vm: VmTimeline, now: number): VmBuckets {
    let b = this.perVm.get(vm.index);
    if (!b) {
      // Created at the instance's first call: by then its buckets would be full anyway.
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
}
