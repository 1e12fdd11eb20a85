/**
 * Every throttling limit Azure documents that the fakes enforce: the one source for
 * testkit/fake-azure (the HTTP fake) and scripts/fleet (the virtual-time region). The figures the
 * waiter itself paces by live in agent/src/core/constants.ts, since the agent cannot import
 * testkit; they are re-exported here rather than written twice.
 */
import type { BucketLimit } from "../agent/src/core/constants";

export {
  ARM_READS_PER_PRINCIPAL,
  ARM_READS_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_VM,
} from "../agent/src/core/constants";
export type { BucketLimit } from "../agent/src/core/constants";

/**
 * ARM tenant reads per principal (GET /subscriptions, which `az login --identity` sends): 250,
 * refill 25/s. https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 */
export const ARM_TENANT_READS_PER_PRINCIPAL: BucketLimit = { capacity: 250, refillPerSecond: 25 };

/**
 * Compute "Low Cost Get VMSS" (GET of the scale set itself), resource level: 36, refill 12/min, per
 * scale set, shared by every instance that reads its parent. Nothing in this project reads a scale
 * set any more; the fakes still charge it, so a reader would be seen.
 * https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits ("Throttling limits for Virtual Machine Scale Sets")
 */
export const COMPUTE_LOW_COST_GET_VMSS_PER_SCALE_SET: BucketLimit = { capacity: 36, refillPerSecond: 12 / 60 };

/** Same row, subscription level: 2,400, refill 800/min. */
export const COMPUTE_LOW_COST_GET_VMSS_PER_SUBSCRIPTION: BucketLimit = { capacity: 2400, refillPerSecond: 800 / 60 };

/**
 * Same page, FAQ: "Users can successfully invoke API calls, 1 min after getting throttled", so a
 * Compute 429 says Retry-After: 60.
 */
export const COMPUTE_RETRY_AFTER_S = 60;

/**
 * ARM's 429 "includes a Retry-After value" in seconds (request-limits page, "Error code"); the page
 * gives no value, so the fakes send the whole seconds until the bucket holds a token, at least this.
 */
export const ARM_MIN_RETRY_AFTER_S = 1;

/**
 * IMDS: "requests to IMDS are limited to 5 requests per second (on a per VM basis). Requests exceeding
 * this threshold will be rejected with 429 responses." Modelled as a bucket of 5 refilled at 5/s.
 * https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#rate-limiting
 */
export const IMDS_REQUESTS_PER_VM: BucketLimit = { capacity: 5, refillPerSecond: 5 };

/** Same section: the Managed Identity category is "limited to 20 requests per second and 5 concurrent requests (on a per VM basis)". */
export const MANAGED_IDENTITY_REQUESTS_PER_VM: BucketLimit = { capacity: 20, refillPerSecond: 20 };
/** Same sentence: at most 5 token requests in flight per VM. */
export const MANAGED_IDENTITY_CONCURRENT_PER_VM = 5;
