/**
 * The scale set's VM extensions: at most one Custom Script Extension (CSE) per mode.
 *
 * The kept proof. With `doNotRunExtensionsOnOverprovisionedVMs`, "extensions are launched only on
 * the requested number of VMs which are finally kept" (Compute REST spec,
 * VirtualMachineScaleSetProperties). The VM agent holds them back while the platform still has
 * the goal state `onHold` (WALinuxAgent, azurelinuxagent/ga/exthandlers.py `_extensions_on_hold`,
 * under its default `EnableOverProvisioning=y`). So a CSE that runs on a VM is the platform's own
 * certificate that the VM is kept: its command writes the VM's IMDS `compute/vmId` to the kept
 * file, and the waiter (`--kept-file`) starts the worker only when that file holds this VM's id
 * and ARM reads the VM `Succeeded`. No ARM read, and never a read of the scale set.
 *
 * Why a CSE in every mode (the smallest extension that can write a file):
 * - Custom Script Extension v2 runs a command as root, returns its exit status as the
 *   extension's, and can be declared in a Uniform scale set's `extensionProfile`.
 * - Managed Run Command (`Microsoft.CPlat.Core/RunCommandHandlerLinux`) is a child resource of a
 *   VM or of one scale-set instance; its doc applies to "Linux VMs, Flexible scale sets", not to
 *   a Uniform scale set's model. https://learn.microsoft.com/azure/virtual-machines/linux/run-command-managed
 * - Action Run Command's handler (`Microsoft.CPlat.Core/RunCommandLinux`) "is intended to be used
 *   internally and should not be directly deployed by the clients" (Azure/run-command-extension-linux).
 *
 * Its costs: it sits on the VM's path to `Succeeded` (the agent installs the handler and runs the
 * command before the VM reports it; the command itself takes milliseconds, and at most
 * KEPT_PROOF_MAX_SECONDS when IMDS does not answer), and it is the one CSE a VM may carry ("You can
 * have only one version of an extension applied to the VM"), so a user who needs a CSE of their
 * own must put its command into ours or turn overprovisioning off.
 */
import { DEFAULT_IMDS_URL } from "../agent/src/core/constants";
import { instancePath } from "../agent/src/core/imds";
import { DEFAULT_HEALTH_EXTENSION, DEFAULT_OVERPROVISION, KEPT_FILE_PATH } from "./defaults";
import { DeliveryMode, assertNever, customScriptCommand, shellQuote } from "./delivery";
import { HealthExtension, healthExtension } from "./health";

/** Custom Script Extension v2 for Linux. https://learn.microsoft.com/azure/virtual-machines/extensions/custom-script-linux */
export const CUSTOM_SCRIPT_PUBLISHER = "Microsoft.Azure.Extensions";
export const CUSTOM_SCRIPT_TYPE = "CustomScript";
export const CUSTOM_SCRIPT_TYPE_HANDLER_VERSION = "2.1";
/** customScript mode: the CSE that starts the worker (after writing the kept file, when the scale set overprovisions). */
export const START_EXTENSION_NAME = "hpc-worker-start";
/** systemd and cloudInit modes with overprovisioning: the CSE that only writes the kept file. */
export const KEPT_EXTENSION_NAME = "hpc-worker-kept";

/**
 * IMDS tries before the kept-proof command gives up and fails the extension. Azure publishes no
 * figure for IMDS failing once the VM agent runs extensions (it answers from the host in
 * milliseconds); a named assumption. The command waits in the foreground, so Succeeded waits
 * with it: 5 tries of at most 2 s, 1 s apart, hold it back by KEPT_PROOF_MAX_SECONDS at worst.
 */
export const KEPT_PROOF_IMDS_TRIES = 5;
/** Per-request deadline for the IMDS read (curl --max-time, or Python's timeout). */
export const KEPT_PROOF_IMDS_TIMEOUT_SECONDS = 2;
/** Pause between tries. */
export const KEPT_PROOF_RETRY_PAUSE_SECONDS = 1;
/** The longest the kept-proof command can hold back Succeeded when IMDS never answers. */
export const KEPT_PROOF_MAX_SECONDS =
  KEPT_PROOF_IMDS_TRIES * KEPT_PROOF_IMDS_TIMEOUT_SECONDS +
  (KEPT_PROOF_IMDS_TRIES - 1) * KEPT_PROOF_RETRY_PAUSE_SECONDS;

/** A VM id as IMDS spells it (a GUID), as a shell `case` pattern: one bracket per character, so nothing else matches. */
const HEX = "[0-9a-fA-F]";
const VM_ID_CASE_PATTERN = [8, 4, 4, 4, 12].map((n) => HEX.repeat(n)).join("-");

/**
 * Python's urllib when curl is missing (Debian's cloud images may lack it; python3 is there with
 * cloud-init and the VM agent). No proxy, as IMDS requires; the error, not a traceback.
 */
const PYTHON_IMDS_GET = `
import sys, urllib.request as r
try:
    q = r.Request(sys.argv[1], headers={"Metadata": "true"})
    o = r.build_opener(r.ProxyHandler({}))
    sys.stdout.write(o.open(q, timeout=float(sys.argv[2])).read().decode())
except Exception as e:
    sys.exit("python3: %s: %s" % (sys.argv[1], e))
`;

/**
 * The kept-proof command (POSIX sh, as the CSE runs it: `/bin/sh -c`): reads this VM's vmId from
 * IMDS with bounded retries and writes it to the kept file atomically (a temporary file in the
 * same directory, fsynced, 0644, renamed over it). If IMDS never gives a vmId it exits 1 without
 * writing anything: the extension, and so the VM, reports the failure instead of a wrong file.
 * `url=` and `kept=` are the only inputs (tests point them at a fake and a temporary file).
 */
export function keptFileCommand(options: { imdsUrl?: string } = {}): string {
  const url = `${(options.imdsUrl ?? DEFAULT_IMDS_URL).replace(/\/+$/, "")}${instancePath("vmId")}`;
  const timeout = KEPT_PROOF_IMDS_TIMEOUT_SECONDS;
  return `# hpc-workers: this extension runs only on VMs the scale set keeps (doNotRunExtensionsOnOverprovisionedVMs),
# so it writes this VM's IMDS vmId to the kept file that the waiter's --kept-file looks for.
set -eu
umask 022
url=${shellQuote(url)}
kept=${KEPT_FILE_PATH}
read_vm_id() {
  if command -v curl >/dev/null 2>&1; then
    curl --silent --show-error --fail --noproxy '*' --max-time ${timeout} --header 'Metadata: true' "$url"
  else
    python3 -c ${shellQuote(PYTHON_IMDS_GET)} "$url" ${timeout}
  fi
}
try=1
while :; do
  vm_id=$(read_vm_id) || vm_id=''
  case $vm_id in
    ${VM_ID_CASE_PATTERN}) break ;;
  esac
  if [ "$try" -ge ${KEPT_PROOF_IMDS_TRIES} ]; then
    echo "hpc-workers: IMDS gave no vmId in ${KEPT_PROOF_IMDS_TRIES} tries (last answer: '$vm_id'); $kept is not written, so the worker does not start on this VM" >&2
    exit 1
  fi
  try=$((try + 1))
  sleep ${KEPT_PROOF_RETRY_PAUSE_SECONDS}
done
mkdir -p "\${kept%/*}"
tmp=$(mktemp "$kept.XXXXXX")
trap 'rm -f "$tmp"' EXIT
printf '%s\\n' "$vm_id" > "$tmp"
chmod 0644 "$tmp"
sync "$tmp"
mv -f "$tmp" "$kept"
trap - EXIT
echo "hpc-workers: this VM is kept; wrote its vmId $vm_id to $kept"
`;
}

/** One entry of the scale set's `virtualMachineProfile.extensionProfile.extensions`. */
export interface ScaleSetExtension {
  name: string;
  publisher: string;
  type: string;
  typeHandlerVersion: string;
  autoUpgradeMinorVersion: boolean;
  /** Public settings: the command holds no secret, and stays readable in the portal. */
  settings: { commandToExecute: string };
}

export interface ExtensionOptions {
  delivery: DeliveryMode;
  /** Default DEFAULT_OVERPROVISION. */
  overprovision?: boolean;
  imdsUrl?: string;
}

function customScript(name: string, commandToExecute: string): ScaleSetExtension {
  return {
    name,
    publisher: CUSTOM_SCRIPT_PUBLISHER,
    type: CUSTOM_SCRIPT_TYPE,
    typeHandlerVersion: CUSTOM_SCRIPT_TYPE_HANDLER_VERSION,
    autoUpgradeMinorVersion: true,
    settings: { commandToExecute },
  };
}

/**
 * The extensions of a scale set in this mode: none without overprovisioning outside customScript
 * mode (Succeeded is enough); otherwise the one CSE, whose command writes the kept file first.
 */
export function renderExtensions(options: ExtensionOptions): ScaleSetExtension[] {
  const overprovision = options.overprovision ?? DEFAULT_OVERPROVISION;
  const kept = overprovision ? keptFileCommand({ imdsUrl: options.imdsUrl }) : undefined;
  switch (options.delivery) {
    case DeliveryMode.Systemd:
    case DeliveryMode.CloudInit:
      return kept ? [customScript(KEPT_EXTENSION_NAME, kept)] : [];
    case DeliveryMode.CustomScript:
      // One command: the kept file is on disk before the unit (and so the waiter) starts.
      return [customScript(START_EXTENSION_NAME, kept ? `${kept}${customScriptCommand()}\n` : customScriptCommand())];
    default:
      return assertNever(options.delivery, "delivery");
  }
}

export interface ScaleSetExtensionsOptions extends ExtensionOptions {
  /** Add the Application Health extension. Default DEFAULT_HEALTH_EXTENSION. */
  healthExtension?: boolean;
  /** The health endpoint's port. Default DEFAULT_HEALTH_PORT. */
  healthPort?: number;
  /** The waiter's timeout, which the health extension's grace period covers. */
  timeoutSeconds?: number;
}

/**
 * The scale set model's whole extension list: the mode's CSE (renderExtensions), then the
 * Application Health extension, provisioned after it (provisionAfterExtensions). In customScript
 * mode the CSE starts the worker, and in every mode with overprovisioning it writes the kept file:
 * the health grace clock then starts once both are done, never before, and on an overprovisioned
 * extra neither runs (doNotRunExtensionsOnOverprovisionedVMs), so an extra never reports health.
 */
export function scaleSetExtensions(options: ScaleSetExtensionsOptions): Array<ScaleSetExtension | HealthExtension> {
  const cse = renderExtensions(options);
  if (!(options.healthExtension ?? DEFAULT_HEALTH_EXTENSION)) return cse;
  const health = healthExtension({
    port: options.healthPort,
    timeoutSeconds: options.timeoutSeconds,
    provisionAfter: cse.map((e) => e.name),
  });
  return [...cse, health];
}
