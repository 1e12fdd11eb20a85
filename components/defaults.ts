/**
 * Every default of the component, written once. JSDoc on the Args points here, and the
 * Pulumi.yaml schema leaves these keys without a `default:` so the two cannot disagree.
 */

/** VM size when `vmSize` is not set: 2 vCPU general purpose, available in every public region. */
export const DEFAULT_VM_SIZE = "Standard_D2s_v5";

/** Ubuntu 24.04 LTS (its `nodejs` package is 18, which runs the waiter). */
export const DEFAULT_IMAGE = {
  publisher: "Canonical",
  offer: "ubuntu-24_04-lts",
  sku: "server",
  version: "latest",
} as const;

/** Login user for ssh. Azure rejects names such as `root` and `admin`. */
export const DEFAULT_ADMIN_USERNAME = "azureuser";

/** Unprivileged user the worker runs as; cloud-init creates it. */
export const DEFAULT_WORKER_USER = "hpcworker";

/** As the platform's own default for a scale set. */
export const DEFAULT_OVERPROVISION = true;

/** Extra VMs of an overprovisioned scale-out never run extensions, so never the kept proof (components/extensions.ts). */
export const DEFAULT_DO_NOT_RUN_EXTENSIONS_ON_OVERPROVISIONED_VMS = true;

/** Model changes reach existing VMs only when the user upgrades them. */
export const DEFAULT_UPGRADE_POLICY = "Manual";

/** Install Debian/Ubuntu's `nodejs` at first boot when `node` is missing (hpc-node-install.service, not
 *  cloud-init's `packages:` module, which runs once per instance and gives up on a held dpkg lock). */
export const DEFAULT_INSTALL_NODEJS = true;

/** Upper bound on instances of a Uniform scale set with a platform image and singlePlacementGroup false.
 *  https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-placement-groups */
export const MAX_UNIFORM_CAPACITY = 1000;

/** A single placement group holds at most 100 VMs (same page); the component defaults to false. */
export const MAX_SINGLE_PLACEMENT_GROUP_CAPACITY = 100;

/** false, so that capacity can reach MAX_UNIFORM_CAPACITY. Set true for InfiniBand/RDMA jobs that
 *  need one placement group (capacity is then at most 100). */
export const DEFAULT_SINGLE_PLACEMENT_GROUP = false;

/** `osProfile.customData`: "The maximum length of the binary array is 65535 bytes."
 *  https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/create-or-update (VirtualMachineScaleSetOSProfile) */
export const MAX_CUSTOM_DATA_BYTES = 65535;

/** Built-in Reader role. https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/general#reader */
export const READER_ROLE_DEFINITION_GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

/** Where the shipped files live on the VM. The policy pack looks for WAITER_PATH to know a scale set is gated. */
export const INSTALL_DIR = "/usr/local/lib/hpc-workers";
export const WAITER_PATH = `${INSTALL_DIR}/waiter.js`;
export const LAUNCHER_PATH = `${INSTALL_DIR}/launch`;
export const WORKER_COMMAND_PATH = "/etc/hpc-workers/worker-command";
/**
 * The kept file: written, with the VM's IMDS compute/vmId, by the extension that runs only on
 * the VMs an overprovisioned scale set keeps (doNotRunExtensionsOnOverprovisionedVMs). It is on
 * the OS disk, so it survives reboots; a reimage wipes it, and the extension runs again.
 * The launcher passes it to the waiter as --kept-file when the scale set overprovisions.
 */
export const KEPT_FILE_PATH = "/var/lib/hpc-workers/kept";
/** One journald unit for every mode: `journalctl -u hpc-worker`. */
export const WORKER_UNIT = "hpc-worker.service";
/** The root installer of Node.js (installNodejs) and the unit that runs it, pulled in by WORKER_UNIT. */
export const NODE_INSTALLER_PATH = `${INSTALL_DIR}/install-node`;
export const NODE_INSTALL_UNIT = "hpc-node-install.service";
/** The drain watcher's unit and script (waiter.js drain-watcher, root, from boot), in every mode. */
export const DRAIN_UNIT = "hpc-worker-drain.service";
export const DRAIN_SCRIPT_PATH = `${INSTALL_DIR}/drain-watch`;
/** A unit's short name, as people type it: `journalctl -u hpc-worker`, `systemctl restart hpc-worker`. */
export function shortUnitName(unit: string): string {
  return unit.replace(/\.service$/, "");
}

/** OS disk type: Standard SSD works with every VM size (Premium needs an "s" size). */
export const DEFAULT_OS_DISK_TYPE = "StandardSSD_LRS";

/** `billingProfile.maxPrice` of a Spot scale set when `maxPrice` is not set: "-1 – indicates default price to be
 *  up-to on-demand", so a VM is never evicted for price. https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/create-or-update (BillingProfile) */
export const DEFAULT_MAX_PRICE = -1;

/** A Spot max price is in US dollars, "using up to five decimal places".
 *  https://learn.microsoft.com/azure/virtual-machine-scale-sets/use-spot */
export const MAX_PRICE_DECIMALS = 5;

/** What happens to an evicted Spot VM: deleted, not deallocated ("only use the autoscale feature on Azure Spot
 *  Virtual Machine Scale Sets when you set the eviction policy to delete", same page). */
export const SPOT_EVICTION_POLICY = "Delete";

/** terminateNotificationProfile.notBeforeTimeout "can take any value between 5 and 15 minutes in ISO 8601 format".
 *  https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-terminate-notification */
export const MIN_TERMINATE_NOTIFICATION_SECONDS = 300;
export const MAX_TERMINATE_NOTIFICATION_SECONDS = 900;

/** The Application Health extension probes each VM's health endpoint, so rolling upgrades, repairs,
 *  the portal and managers see a VM as healthy only once its worker runs. */
export const DEFAULT_HEALTH_EXTENSION = true;
/** The health endpoint (the waiter bundle's `health-server`, 127.0.0.1 only): systemd binds its socket
 *  early in every boot and starts the service behind it on the first probe. */
export const HEALTH_SOCKET_UNIT = "hpc-worker-health.socket";
export const HEALTH_UNIT = "hpc-worker-health.service";
/** The health service's start script: waits for a working Node.js, then execs the health server. */
export const HEALTH_SERVER_PATH = `${INSTALL_DIR}/health`;
/** The worker unit's ExecStopPost=: records for the health endpoint whether systemd restarts the worker. */
export const STOP_RECORDER_PATH = `${INSTALL_DIR}/record-stop`;
