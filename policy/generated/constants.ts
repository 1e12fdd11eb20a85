// Generated from components/defaults.ts by `npm run gen:policy` (scripts/gen-policy-constants.ts) — do not edit.
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
