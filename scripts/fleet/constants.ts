/**
 * The fleet simulation's numbers. Azure's documented limits come from the one source the fakes
 * share (testkit/azureLimits.ts, which takes the agent's own from agent/src/core/constants.ts);
 * everything below the line is an assumption, because Azure publishes no figure for it. Keep the
 * two apart: the first are facts to cite, the second are knobs to argue about, and the bench
 * prints every one of them.
 */
export {
  ARM_MIN_RETRY_AFTER_S,
  ARM_READS_PER_PRINCIPAL,
  ARM_READS_PER_SUBSCRIPTION,
  ARM_TENANT_READS_PER_PRINCIPAL,
  COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION,
  COMPUTE_GET_VMSS_VM_PER_VM,
  COMPUTE_LOW_COST_GET_VMSS_PER_SCALE_SET,
  COMPUTE_LOW_COST_GET_VMSS_PER_SUBSCRIPTION,
  COMPUTE_RETRY_AFTER_S,
  IMDS_REQUESTS_PER_VM,
  MANAGED_IDENTITY_CONCURRENT_PER_VM,
  MANAGED_IDENTITY_REQUESTS_PER_VM,
} from "../../testkit/azureLimits";
export type { BucketLimit } from "../../testkit/azureLimits";
export { ARM_API_VERSION as COMPUTE_API_VERSION } from "../../agent/src/core/constants";

/** https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-orchestration-modes: a Uniform scale set holds at most 1,000 instances. */
export const UNIFORM_MAX_INSTANCES = 1000;

/**
 * WALinuxAgent checks for a new goal state every Extensions.GoalStatePeriod, 6 s by default
 * (azurelinuxagent/common/conf.py), and while the goal state is on hold (`onHold`, with
 * EnableOverProvisioning on by default) it runs no extension (azurelinuxagent/ga/exthandlers.py,
 * `_extensions_on_hold`). So a released VM starts its extensions up to 6 s after the release.
 */
export const GOAL_STATE_PERIOD_S = 6;

/** https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token: IMDS hands out tokens with expires_in "86399" at most, numbers as strings. */
export const MI_TOKEN_LIFETIME_S = 86399;

// ---------------------------------------------------------------- assumed (no Azure figure exists)

/**
 * When the platform chooses which instances of an overprovisioned scale set it keeps, and so
 * releases the extension hold on them (their kept file is written only then):
 * - creation: at creation (the first N created are kept; no instance waits for another);
 * - booted: once N instances have booted (those N are kept);
 * - provisioned: once N instances have finished OS provisioning (those N are kept);
 * - all: once every instance, extras included, has finished OS provisioning (the first N kept).
 * The design overview says an overprovisioned scale set "deletes the extra VMs once the requested
 * number of VMs are successfully provisioned"
 * (https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-design-overview),
 * and the Compute spec that extensions run "only on the requested number of VMs which are finally
 * kept"; neither says when the choice is made. The headline takes `provisioned`, the reading of
 * that sentence; the bench prints the others as sensitivity.
 */
export const HOLD_MODELS = ["creation", "booted", "provisioned", "all"] as const;
export type HoldModel = (typeof HOLD_MODELS)[number];
export const HOLD_MODEL: HoldModel = "provisioned";

/**
 * Seconds from the extension starting to the kept file being written: the Custom Script
 * Extension's handler download and install, then the command's first line. Log-normal (assumed).
 */
export const EXTENSION_FILE_MEDIAN_S = 8;
export const EXTENSION_FILE_SIGMA = 0.4;
/**
 * Seconds from the kept file to the VM reading Succeeded: the command returns, the VM agent
 * reports the extension's status (every goal-state period), Compute marks the VM. Log-normal (assumed).
 */
export const EXTENSION_REPORT_MEDIAN_S = 6;
export const EXTENSION_REPORT_SIGMA = 0.4;

/**
 * Whether an extra reads Succeeded from its OS provisioning until the cull (true), or Creating
 * (false: its extensions, held, never complete). Azure does not say. The headline takes false;
 * the bench prints the other as sensitivity: the kept-file proof must hold either way, and a
 * script that trusts Succeeded alone then starts workers on extras.
 */
export const EXTRAS_READ_SUCCEEDED = false;

/**
 * Overprovisioned extras as a fraction of N. The design overview says the platform "spins up more
 * VMs than you asked for" but not how many; reports put it at 10-20 % (10 requested, 12 created):
 * we take ceil(20 %).
 */
export const OVERPROVISION_FRACTION = 0.2;
/** Seconds from the kept set being chosen to the extras reading Deleting (assumed; "deleted within seconds"). */
export const DELETE_START_S = 5;
/** Median seconds a Deleting instance takes to vanish (404) and power off (assumed). */
export const DELETE_MEDIAN_S = 30;

/**
 * Instances whose creation starts per second, per scale set, spread uniformly over total / rate
 * seconds (assumed: Azure publishes no creation rate). 5/s puts N = 1,000 (+200 extras) in
 * creation over 4 min; ten scale sets scaling out together create 50/s in the subscription. The
 * contract sends each waiter's first read at boot, so this rate is a load no policy can pace;
 * the bench prints the headline again at 10/s and 50/s.
 */
export const CREATE_STAGGER_VMS_PER_S = 5;
/** Median seconds from a VM's creation to the waiter starting (boot, cloud-init); log-normal, sigma below (assumed). */
export const BOOT_MEDIAN_S = 35;
export const BOOT_SIGMA = 0.25;
/** Median seconds from the waiter starting to OS provisioning complete (guest ready reported); log-normal (assumed). */
export const READY_MEDIAN_S = 25;
export const READY_SIGMA = 0.6;
/** Shortest waiter-start-to-ready gap (assumed): the platform needs the guest's ready report. */
export const READY_MIN_S = 2;

/**
 * First deployment: Pulumi creates the role assignment once the scale set's create has completed
 * (it needs the set's principalId), which takes this long (assumed), and RBAC then propagates.
 */
export const ROLE_ASSIGNMENT_CREATE_S = 5;
/**
 * "Role assignment changes can take up to 10 minutes to take effect"
 * (https://learn.microsoft.com/azure/role-based-access-control/troubleshooting): the headline assumes
 * 2 minutes, the bench prints 10 as sensitivity. Until then every ARM read of the VM answers 403.
 */
export const RBAC_PROPAGATION_S = 120;
export const RBAC_PROPAGATION_SENSITIVITY_S = 600;
/**
 * Whether ARM counts a 403 against the principal's and the subscription's read buckets, and reports
 * the counts in its headers as on any read. Azure does not say; captured 403s on writes carry no
 * x-ms-ratelimit-* header, a read's 404 from the same gateway carries the reads count. Assumed:
 * counted and reported (the issue asks the 403 pacing to keep the fleet inside the buckets). The
 * bench prints the fleet without the count as sensitivity.
 */
export const FORBIDDEN_COUNTED = true;

/** Median ARM round trip in ms from a VM in-region, log-normal (assumed). */
export const ARM_RTT_MEDIAN_MS = 120;
export const ARM_RTT_SIGMA = 0.3;
/** IMDS round trip in ms: link-local, no network hop (assumed). */
export const IMDS_RTT_MS = 2;

/** Azure CLI start-up per `az` invocation (Python import) in ms, so the tutorial's loop period is 10 s + this (assumed). */
export const AZ_CLI_STARTUP_MS = 1000;
/** azure-core's RetryPolicy default retry_total, which Azure CLI keeps: it waits out Retry-After up to this many times per call. */
export const AZ_CLI_RETRY_TOTAL = 10;
/** The tutorial's fixed poll and its trailing sleep after Succeeded, in seconds (issue 7). */
export const TUTORIAL_POLL_S = 10;
export const TUTORIAL_TRAILING_SLEEP_S = 10;
