/**
 * The launch hook: Azure's Application Health extension (Rich Health States) probing each VM's
 * own health endpoint (the waiter bundle's `health-server`, agent/src/core/healthServer.ts), and
 * the optional automatic instance repairs that act on what it reports.
 *
 * Sources: "Using Application Health extension with Virtual Machine Scale Sets" (VMSS-AHE doc),
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-health-extension ;
 * the extension's own validation, Azure/applicationhealth-extension-linux main/schema.go and
 * main/handlersettings.go (v2.0.29); "Automatic instance repairs" (Repairs doc),
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-instance-repairs .
 */
import { DEFAULT_HEALTH_PORT, HEALTH_PATH } from "../agent/src/core/healthServer";
import { DEFAULT_WAITER_TIMEOUT_SECONDS } from "./waiterContract";

/** The health endpoint's port when healthPort is not set (a named assumption, see the agent). */
export { DEFAULT_HEALTH_PORT };

/** The extension's identity: VMSS-AHE doc, "Property values" (2.0 is Rich Health States; 1.0 Binary). */
export const HEALTH_EXTENSION_PUBLISHER = "Microsoft.ManagedServices";
export const HEALTH_EXTENSION_TYPE = "ApplicationHealthLinux";
export const HEALTH_EXTENSION_TYPE_HANDLER_VERSION = "2.0";
/** Its name in the scale set model. */
export const HEALTH_EXTENSION_NAME = "hpc-worker-health";
/** The probe goes to http://localhost:PORT/PATH inside the VM (the extension's main/health.go). */
export const HEALTH_PROBE_PROTOCOL = "http";

/** intervalInSeconds: "Minimum value is 5 seconds, maximum is 60 seconds" (VMSS-AHE doc; schema.go 5..60). */
export const MIN_HEALTH_INTERVAL_SECONDS = 5;
export const MAX_HEALTH_INTERVAL_SECONDS = 60;
/** numberOfProbes: "Minimum value is 1 probe, maximum is 24 probes" (VMSS-AHE doc; schema.go 1..24). */
export const MIN_HEALTH_PROBES = 1;
export const MAX_HEALTH_PROBES = 24;
/**
 * intervalInSeconds × numberOfProbes: at most 240 s. Not in the docs; the extension refuses more:
 * handlersettings.go "Probe settle time (intervalInSeconds * numberOfProbes) cannot exceed 240 seconds".
 */
export const MAX_HEALTH_PROBE_SETTLE_SECONDS = 240;
/** gracePeriod: "maximum grace period is 14400 seconds" (VMSS-AHE doc); schema.go minimum 5, maximum 14400. */
export const MIN_HEALTH_GRACE_PERIOD_SECONDS = 5;
export const MAX_HEALTH_GRACE_PERIOD_SECONDS = 14400;

/** A probe every 5 s, the minimum: one loopback GET costs the VM about 0.6 ms of CPU (npm run bench:agent). */
export const HEALTH_INTERVAL_SECONDS = 5;
/**
 * Six identical answers in a row change the state Azure reports, so a restart shorter than
 * 30 s (RestartSec 10 s plus the launcher's first 5 s back-off, plus the waiter's second) never
 * shows; a worker is reported Healthy about 30 s after it starts.
 */
export const HEALTH_NUMBER_OF_PROBES = 6;
/**
 * Named assumption: how long a VM may take from the extension's start to the waiter's start
 * (boot, cloud-init, installing Node.js). The grace clock starts when the extension is enabled
 * (the extension's main/cmds.go), before the waiter's own clock.
 */
export const HEALTH_BOOT_ALLOWANCE_SECONDS = 900;

/** healthPort: no privilege needed (≥ 1024), below Linux's ephemeral ports (ip_local_port_range starts at 32768). */
export const MIN_HEALTH_PORT = 1024;
export const MAX_HEALTH_PORT = 32767;

/** intervalInSeconds × numberOfProbes: how long a new state takes to show. */
export function healthProbeSettleSeconds(): number {
  return HEALTH_INTERVAL_SECONDS * HEALTH_NUMBER_OF_PROBES;
}

/**
 * The extension's gracePeriod: it reports Initializing (and repairs leave the VM alone) for this
 * long unless the endpoint answers Healthy or Unhealthy numberOfProbes times in a row first. Our
 * endpoint answers Initializing while the waiter waits, which the extension counts as an invalid
 * answer: Initializing inside the grace period, Unknown after it. So the grace period covers the
 * waiter's whole wait: its timeout, the boot allowance before it starts, and the settle time.
 */
export function healthGracePeriodSeconds(timeoutSeconds: number = DEFAULT_WAITER_TIMEOUT_SECONDS): number {
  return timeoutSeconds + HEALTH_BOOT_ALLOWANCE_SECONDS + healthProbeSettleSeconds();
}

/** The longest waiter timeout whose grace period the extension accepts (13,470 s). */
export const MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION =
  MAX_HEALTH_GRACE_PERIOD_SECONDS - HEALTH_BOOT_ALLOWANCE_SECONDS - healthProbeSettleSeconds();

/** The extension's public settings, exactly its schema's names; nothing else (additionalProperties: false). */
export interface HealthExtensionSettings {
  protocol: typeof HEALTH_PROBE_PROTOCOL;
  port: number;
  requestPath: string;
  intervalInSeconds: number;
  numberOfProbes: number;
  gracePeriod: number;
}

export function healthExtensionSettings(options: { port?: number; timeoutSeconds?: number }): HealthExtensionSettings {
  return {
    protocol: HEALTH_PROBE_PROTOCOL,
    port: options.port ?? DEFAULT_HEALTH_PORT,
    requestPath: HEALTH_PATH,
    intervalInSeconds: HEALTH_INTERVAL_SECONDS,
    numberOfProbes: HEALTH_NUMBER_OF_PROBES,
    gracePeriod: healthGracePeriodSeconds(options.timeoutSeconds),
  };
}

/** The extension entry of the scale set model (azure-native's flat VirtualMachineScaleSetExtension shape). */
export interface HealthExtension {
  name: string;
  publisher: string;
  type: string;
  typeHandlerVersion: string;
  autoUpgradeMinorVersion: boolean;
  settings: HealthExtensionSettings;
  /** The extensions it is provisioned after: its grace clock then starts later, never earlier. */
  provisionAfterExtensions?: string[];
}

export function healthExtension(options: {
  port?: number;
  timeoutSeconds?: number;
  provisionAfter?: string[];
}): HealthExtension {
  const extension: HealthExtension = {
    name: HEALTH_EXTENSION_NAME,
    publisher: HEALTH_EXTENSION_PUBLISHER,
    type: HEALTH_EXTENSION_TYPE,
    typeHandlerVersion: HEALTH_EXTENSION_TYPE_HANDLER_VERSION,
    autoUpgradeMinorVersion: true,
    settings: healthExtensionSettings(options),
  };
  if (options.provisionAfter && options.provisionAfter.length > 0) {
    extension.provisionAfterExtensions = [...options.provisionAfter];
  }
  return extension;
}

/** What automatic repairs do to a VM that is Unhealthy or Unknown (Repairs doc; azure-native compute.RepairAction). */
export const RepairAction = {
  /** Delete the VM and create a new one from the latest model (the platform's default). */
  Replace: "Replace",
  /** Reimage the VM: a fresh OS disk, the same VM. */
  Reimage: "Reimage",
  /** Restart the VM. */
  Restart: "Restart",
} as const;
export type RepairAction = (typeof RepairAction)[keyof typeof RepairAction];

/** "Grace period can range between 10 minutes and 90 minutes, and has a default value of 10 minutes" (Repairs doc). */
export const MIN_REPAIR_GRACE_MINUTES = 10;
export const MAX_REPAIR_GRACE_MINUTES = 90;
export const DEFAULT_REPAIR_GRACE_PERIOD = "PT10M";
export const DEFAULT_REPAIR_ACTION: RepairAction = RepairAction.Replace;
/** Passing automaticRepairs turns them on unless it says enabled: false. */
export const DEFAULT_AUTOMATIC_REPAIRS_ENABLED = true;

export interface RepairsPolicy {
  enabled: boolean;
  gracePeriod: string;
  repairAction: RepairAction;
}

/** The scale set's automaticRepairsPolicy, every field explicit (the platform's defaults have changed before). */
export function automaticRepairsPolicy(args: {
  enabled?: boolean;
  gracePeriod?: string;
  action?: RepairAction;
}): RepairsPolicy {
  return {
    enabled: args.enabled ?? DEFAULT_AUTOMATIC_REPAIRS_ENABLED,
    gracePeriod: args.gracePeriod ?? DEFAULT_REPAIR_GRACE_PERIOD,
    repairAction: args.action ?? DEFAULT_REPAIR_ACTION,
  };
}
