// Generated from components/defaults.ts, components/health.ts, agent/src/core/healthServer.ts by `npm run gen:policy` (scripts/gen-policy-constants.ts) — do not edit.
// The pack is published alone, so it carries this copy; a test fails when it is out of date.

/** `osProfile.customData`: "The maximum length of the binary array is 65535 bytes."
 *  https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/create-or-update (VirtualMachineScaleSetOSProfile) */
export const MAX_CUSTOM_DATA_BYTES = 65535;

/** Built-in Reader role. https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/general#reader */
export const READER_ROLE_DEFINITION_GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

export const WAITER_PATH = "/usr/local/lib/hpc-workers/waiter.js";

export const LAUNCHER_PATH = "/usr/local/lib/hpc-workers/launch";

export const WORKER_COMMAND_PATH = "/etc/hpc-workers/worker-command";

/** One journald unit for every mode: `journalctl -u hpc-worker`. */
export const WORKER_UNIT = "hpc-worker.service";

/**
 * The kept file: written, with the VM's IMDS compute/vmId, by the extension that runs only on
 * the VMs an overprovisioned scale set keeps (doNotRunExtensionsOnOverprovisionedVMs). It is on
 * the OS disk, so it survives reboots; a reimage wipes it, and the extension runs again.
 * The launcher passes it to the waiter as --kept-file when the scale set overprovisions.
 */
export const KEPT_FILE_PATH = "/var/lib/hpc-workers/kept";

/** The health endpoint (the waiter bundle's `health-server`, 127.0.0.1 only): systemd binds its socket
 *  early in every boot and starts the service behind it on the first probe. */
export const HEALTH_SOCKET_UNIT = "hpc-worker-health.socket";

/** The health service's start script: waits for a working Node.js, then execs the health server. */
export const HEALTH_SERVER_PATH = "/usr/local/lib/hpc-workers/health";

/** `billingProfile.maxPrice` of a Spot scale set when `maxPrice` is not set: "-1 – indicates default price to be
 *  up-to on-demand", so a VM is never evicted for price. https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/create-or-update (BillingProfile) */
export const DEFAULT_MAX_PRICE = -1;

/** A Spot max price is in US dollars, "using up to five decimal places".
 *  https://learn.microsoft.com/azure/virtual-machine-scale-sets/use-spot */
export const MAX_PRICE_DECIMALS = 5;

/** terminateNotificationProfile.notBeforeTimeout "can take any value between 5 and 15 minutes in ISO 8601 format".
 *  https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-terminate-notification */
export const MIN_TERMINATE_NOTIFICATION_SECONDS = 300;

export const MAX_TERMINATE_NOTIFICATION_SECONDS = 900;

/** The extension's identity: VMSS-AHE doc, "Property values" (2.0 is Rich Health States; 1.0 Binary). */
export const HEALTH_EXTENSION_PUBLISHER = "Microsoft.ManagedServices";

export const HEALTH_EXTENSION_TYPE = "ApplicationHealthLinux";

/** The one path served; every other path is a 404 (never a redirect: the extension counts one as Unknown). */
export const HEALTH_PATH = "/health";
