/**
 * Every number the fleet simulation takes from Azure's documentation, and, separately, every
 * number it assumes because Azure does not publish one. Keep the two groups apart: the first
 * are facts to cite, the second are knobs to argue about.
 */

// ---------------------------------------------------------------- documented by Azure

/** https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling ("Regional throttling and token bucket algorithm": Subscription reads, bucket size 250). Scoped per security principal per subscription, so the whole scale set (one system-assigned identity) shares it. */
export const ARM_SUBSCRIPTION_READ_BUCKET = 250;
/** Same table: Subscription reads refill 25 per second. */
export const ARM_SUBSCRIPTION_READ_REFILL_PER_S = 25;
/** Same table: Tenant reads, bucket 250 (GET /subscriptions, which `az login --identity` calls). */
export const ARM_TENANT_READ_BUCKET = 250;
/** Same table: Tenant reads refill 25 per second. */
export const ARM_TENANT_READ_REFILL_PER_S = 25;

/** https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits ("Get VMSS VMs": Get, Get Instance View): resource-level maximum bucket capacity 36, i.e. per VM. */
export const COMPUTE_GET_VMSS_VM_BUCKET = 36;
/** Same row: resource-level bucket refill rate 12 per minute. */
export const COMPUTE_GET_VMSS_VM_REFILL_PER_MIN = 12;
/** Same row: subscription-level maximum bucket capacity 6,000. */
export const COMPUTE_GET_VMSS_VM_SUB_BUCKET = 6000;
/** Same row: subscription-level bucket refill rate 2,000 per minute. */
export const COMPUTE_GET_VMSS_VM_SUB_REFILL_PER_MIN = 2000;

/**
 * Same page, "Low Cost Get VMSS" (Get on the scale set itself): resource-level capacity 36, per scale
 * set, shared by every instance that reads its parent. Issue 7 does not list it: the headline charges
 * a scale-set GET to the ARM principal bucket and the 6,000 +2,000/min subscription Compute bucket
 * above; this one and the next three are the `--vmss-bucket` what-if.
 */
export const COMPUTE_GET_VMSS_BUCKET = 36;
/** Same row: resource-level refill 12 per minute. */
export const COMPUTE_GET_VMSS_REFILL_PER_MIN = 12;
/** Same row: subscription-level capacity 2,400. */
export const COMPUTE_GET_VMSS_SUB_BUCKET = 2400;
/** Same row: subscription-level refill 800 per minute. */
export const COMPUTE_GET_VMSS_SUB_REFILL_PER_MIN = 800;

/** Same page, FAQ: "Users can successfully invoke API calls, 1 min after getting throttled", so Compute's 429 says Retry-After: 60. */
export const COMPUTE_RETRY_AFTER_S = 60;

/** ARM request-limits page, "Error code": a 429 carries Retry-After in seconds. The page gives no value; we send the whole seconds until the bucket holds a token again, at least 1. */
export const ARM_MIN_RETRY_AFTER_S = 1;

/** https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-set-vms/get: the api-version the agent's contract (issue 3) pins. */
export const COMPUTE_API_VERSION = "2024-11-01";

/** https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token: token lifetime as IMDS answers it (expires_in "86399"), numbers as strings. */
export const MI_TOKEN_LIFETIME_S = 86399;

// ---------------------------------------------------------------- assumed (no Azure figure exists)

/**
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-design-overview
 * says an overprovisioned scale set "spins up more VMs than you asked for, then deletes the
 * extra VMs once the requested number of VMs are successfully provisioned", but not how many.
 * Observed reports put it at 10-20 % (10 requested, 12 created); we take the high end, ceil(20 %).
 */
export const OVERPROVISION_FRACTION = 0.2;
/** Seconds from the N-th Succeeded to the platform marking the extras Deleting (assumed; "deleted within seconds"). */
export const DELETE_START_S = 5;
/** Median seconds a Deleting instance takes to vanish (404) and power off (assumed). */
export const DELETE_MEDIAN_S = 30;

/**
 * Instances whose creation starts per second, spread uniformly over total / rate seconds (assumed).
 * Azure publishes no creation rate for a scale-out. It is one request that the platform fans out
 * over allocation, disks, NICs and extensions, and a large scale-out takes minutes, not seconds,
 * to come up. 5/s puts the last of N = 1,000 (+200 extras) in creation after 4 min and all Succeeded
 * about 5 min after the request (N = 2,000: 8 and 9 min). It is the knob the results depend on most:
 * the contract sends each instance's first read at boot, so the boot rate is a share of the 25/s
 * budget that no policy can pace. The bench prints the headline again at 10/s and 50/s (the
 * first version's default: 2,400 instances in 48 s).
 */
export const CREATE_STAGGER_VMS_PER_S = 5;
/** Median seconds from a VM's creation to the waiter starting (boot, cloud-init); log-normal, sigma below (assumed). */
export const BOOT_MEDIAN_S = 35;
export const BOOT_SIGMA = 0.25;
/** Median seconds from the waiter starting to provisioningState Succeeded (guest ready, extensions); log-normal (assumed). */
export const READY_MEDIAN_S = 25;
export const READY_SIGMA = 0.6;
/** Shortest waiter-start-to-Succeeded gap (assumed): the platform needs the guest's ready report. */
export const READY_MIN_S = 2;

/** Median ARM round trip in ms from a VM in-region, log-normal (assumed). */
export const ARM_RTT_MEDIAN_MS = 120;
export const ARM_RTT_SIGMA = 0.3;
/** IMDS round trip in ms: link-local, no network hop (assumed). */
export const IMDS_RTT_MS = 2;

/** Azure CLI start-up per `az` invocation (Python import) in ms, so the tutorial's loop period is 10 s + this; consistent with the "10-21 s" unthrottled latency (assumed). */
export const AZ_CLI_STARTUP_MS = 1000;
/** azure-core's RetryPolicy default retry_total, which Azure CLI keeps: it waits out Retry-After up to this many times per call. */
export const AZ_CLI_RETRY_TOTAL = 10;
/** The tutorial's fixed poll and its trailing sleep after Succeeded, in seconds (issue 7). */
export const TUTORIAL_POLL_S = 10;
export const TUTORIAL_TRAILING_SLEEP_S = 10;
