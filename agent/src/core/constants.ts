/**
 * Every number and name the agent takes from Azure's documentation, each with its source.
 * Timing knobs of the poll policy live in pollPolicy.ts; exit codes in exitCodes.ts.
 */

/** The link-local IMDS address. https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service */
export const DEFAULT_IMDS_URL = "http://169.254.169.254";

/**
 * IMDS instance api-version. 2021-02-01 is the version the IMDS doc uses in its samples; it
 * serves compute.resourceId (added 2019-03-11), compute.azEnvironment (added 2018-10-01) and
 * compute.vmId (in every version since 2017-04-02).
 * https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#versioning
 */
export const IMDS_INSTANCE_API_VERSION = "2021-02-01";

/** Managed identity token endpoint api-version. https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token */
export const IMDS_TOKEN_API_VERSION = "2018-02-01";

/** Compute api-version for Virtual Machine Scale Set VMs - Get (and Virtual Machines - Get, for a Flexible member). https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-set-vms/get */
export const ARM_API_VERSION = "2024-11-01";

/**
 * ARM endpoint per IMDS compute.azEnvironment (lower-cased: the IMDS spec example says
 * "AZUREPUBLICCLOUD", the IMDS doc "AzurePublicCloud"). The endpoints are Get-AzEnvironment's
 * "Resource Manager Url" (https://learn.microsoft.com/powershell/module/az.accounts/get-azenvironment);
 * the token resource is the same URL, as the managed-identity doc does for the public cloud
 * (resource=https://management.azure.com/). AzureGermanCloud was closed in 2021 and is left out.
 */
export const CLOUDS: Record<string, { arm: string; resource: string }> = {
  azurepubliccloud: { arm: "https://management.azure.com/", resource: "https://management.azure.com/" },
  azureusgovernmentcloud: {
    arm: "https://management.usgovcloudapi.net/",
    resource: "https://management.usgovcloudapi.net/",
  },
  azurechinacloud: { arm: "https://management.chinacloudapi.cn/", resource: "https://management.chinacloudapi.cn/" },
};

/**
 * Default overall --timeout, in seconds: 2 hours. A VM's extensions alone may take the
 * default extensionsTimeBudget of 90 minutes ("between 15 minutes and 120 minutes ...
 * The default value is 90 minutes (PT1H30M)",
 * https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update), on top of allocation
 * and boot; a VM still not Succeeded after 2 h has failed in all but name, and the
 * launcher should give up rather than hold the machine forever.
 */
export const DEFAULT_TIMEOUT_SECONDS = 7200;

/** Per-request deadline for IMDS: it answers from the host in milliseconds, so 5 s means it is not there (yet). */
export const IMDS_REQUEST_TIMEOUT_MS = 5000;

/** Per-request deadline for ARM: a GET answers in well under a second; 10 s means a hung connection. */
export const ARM_REQUEST_TIMEOUT_MS = 10000;

/**
 * Refresh the token this long before it expires (or at half its lifetime if that is shorter).
 * The managed-identity doc asks clients to cache tokens and refresh before expiry; IMDS itself
 * hands out cached tokens with at least 5 minutes left.
 */
export const TOKEN_REFRESH_MARGIN_MS = 300000;

/** Lifetime assumed for a token whose expires_in/expires_on cannot be read. */
export const TOKEN_FALLBACK_LIFETIME_MS = 300000;

/** Bodies beyond this are cut: ARM's VM document is a few KB. */
export const MAX_BODY_BYTES = 1048576;

// ---- Scheduled Events (the drain watcher) ----------------------------------------------------
// All from https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events ([SE]) unless said.

/** "Versions are mandatory; the current version is 2020-07-01" (the only one with DurationInSeconds; Terminate needs ≥ 2019-01-01). [SE] */
export const SCHEDULED_EVENTS_API_VERSION = "2020-07-01";

/** GET lists the events, POST of {"StartRequests":[{"EventId":…}]} acknowledges them: the same URL. [SE] */
export const SCHEDULED_EVENTS_PATH = `/metadata/scheduledevents?api-version=${SCHEDULED_EVENTS_API_VERSION}`;

/** "we recommend that you poll the service once per second" [SE]: one GET a second is well inside IMDS's 5 requests/s per VM. */
export const SCHEDULED_EVENTS_POLL_MS = 1000;

/**
 * "You should expect a delayed response in your first call of up to two minutes" [SE]: the first call
 * (until one is answered) gets two minutes plus 10 s of slack. Later calls get IMDS_REQUEST_TIMEOUT_MS,
 * so a hung socket cannot blind the watcher for two minutes of a 30 s eviction notice. While the
 * watcher polls every second the service cannot fall back to disabled (24 h, below), so a later slow
 * answer is a fault, not a re-enabling.
 */
export const SCHEDULED_EVENTS_ENABLE_TIMEOUT_MS = 130000;

/**
 * "Scheduled Events is disabled for your service if it doesn't make a request to the endpoint for
 * 24 hours" [SE]. The watcher's longest silence is one drain (at most MAX_DRAIN_SECONDS) or one IMDS
 * back-off (at most 5 s), far below it; a test holds that.
 */
export const SCHEDULED_EVENTS_DISABLED_AFTER_MS = 86400000;

/** A Spot eviction (Preempt) comes "up to 30 seconds" ahead, best effort. https://learn.microsoft.com/azure/virtual-machines/spot-vms */
export const PREEMPT_NOTICE_SECONDS = 30;

/**
 * The longest notice a delete gives: terminateNotificationProfile.notBeforeTimeout "can take any value
 * between 5 and 15 minutes". https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-terminate-notification
 * A drain longer than that could never be given to a Terminate, so --drain-seconds stops there.
 */
export const MAX_DRAIN_SECONDS = 900;

/**
 * The drain time when none is given: what a Spot eviction leaves a worker, PREEMPT_NOTICE_SECONDS
 * less a poll period and the drain's safety margin (drainPlan.ts), rounded down, so the contract
 * "SIGTERM means finish or hand back within drainSeconds" holds for every event type by default.
 */
export const DEFAULT_DRAIN_SECONDS = 25;

/** The worker's systemd unit, in every delivery mode (components/defaults.ts WORKER_UNIT is this). */
export const DEFAULT_WORKER_UNIT = "hpc-worker.service";

/** Where systemctl is on every systemd distribution, merged /usr or not. */
export const DEFAULT_SYSTEMCTL = "/bin/systemctl";

/** A token bucket as Azure documents one: it starts full, a call takes a token, tokens come back at a steady rate. */
export interface BucketLimit {
  capacity: number;
  refillPerSecond: number;
}

/**
 * ARM reads per security principal per subscription (bucket 250, refill 25/s): every VM of a scale
 * set shares it through the set's one system-assigned identity; each scale set has its own.
 * https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 * ("Regional throttling and token bucket algorithm"). Reported in x-ms-ratelimit-remaining-subscription-reads.
 */
export const ARM_READS_PER_PRINCIPAL: BucketLimit = { capacity: 250, refillPerSecond: 25 };

/**
 * ARM reads per subscription across every principal: the same page sets, per operation type, a global
 * subscription limit of 15 times the per-principal one, applied across all principals: 3,750,
 * refill 375/s, shared by every scale set of the subscription. Reported in
 * x-ms-ratelimit-remaining-subscription-global-reads.
 */
export const ARM_READS_PER_SUBSCRIPTION: BucketLimit = { capacity: 3750, refillPerSecond: 375 };

/**
 * Compute "Get VMSS VMs" (Get, Get Instance View of a scale-set VM), resource level: 36, refill
 * 12/min, per VM. https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits
 * ("Throttling limits for Virtual Machine Scale Set Virtual Machines").
 */
export const COMPUTE_GET_VMSS_VM_PER_VM: BucketLimit = { capacity: 36, refillPerSecond: 12 / 60 };

/**
 * Same row, subscription level: 6,000, refill 2,000/min, shared by every scale-set VM read in the
 * subscription and region. Compute reports its buckets in x-ms-ratelimit-remaining-resource
 * ("policy;count,..."); the page names no policy, so the agent tells this one by its size (above 36).
 */
export const COMPUTE_GET_VMSS_VM_PER_SUBSCRIPTION: BucketLimit = { capacity: 6000, refillPerSecond: 2000 / 60 };
