/**
 * What the rules know about a resource, read from its raw props: which kind of resource it is, and
 * for a scale set its identity, orchestration, overprovisioning, custom data (decoded, with the files
 * and commands of its cloud-config), Custom Script Extension commands and its health sources
 * (Application Health extensions, a load balancer probe) and automatic repairs.
 */
import { CloudConfigCommand, readCloudConfig } from "./cloudConfig";
import { DecodedCustomData, decodeCustomData } from "./customData";
import { HEALTH_EXTENSION_PUBLISHER, WAITER_PATH } from "./generated/constants";
import { UNKNOWN, Unknown, at, knownString, rawProps } from "./unknowns";

/** Versioned tokens (`azure-native:compute/v20240701:...`) name the same ARM resource. */
const VMSS_TYPE_RE = /^azure-native:compute(\/v[0-9a-z]+)?:VirtualMachineScaleSet$/;
const ROLE_ASSIGNMENT_TYPE_RE = /^azure-native:authorization(\/v[0-9a-z]+)?:RoleAssignment$/;

/** The Custom Script Extension for Linux: v2 (`Microsoft.Azure.Extensions/CustomScript`) and the
 *  retired v1. https://learn.microsoft.com/azure/virtual-machines/extensions/custom-script-linux */
const CUSTOM_SCRIPT_EXTENSIONS = [
  { publisher: "microsoft.azure.extensions", type: "customscript" },
  { publisher: "microsoft.ostcextensions", type: "customscriptforlinux" },
];

/** The Application Health extension, Linux or Windows. https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-health-extension */
const HEALTH_EXTENSION_TYPES = ["applicationhealthlinux", "applicationhealthwindows"];

export function isScaleSetType(type: string): boolean {
  return VMSS_TYPE_RE.test(type);
}

export function isRoleAssignmentType(type: string): boolean {
  return ROLE_ASSIGNMENT_TYPE_RE.test(type);
}

export interface CustomScriptCommand {
  extensionName: string;
  /** The command, when it is a known literal; UNKNOWN when not known during a preview. */
  command: string | Unknown | undefined;
}

/** An Application Health extension of the model: what it probes. UNKNOWN when not known during a preview. */
export interface HealthExtensionFacts {
  extensionName: string;
  typeHandlerVersion: string | Unknown | undefined;
  protocol: string | Unknown | undefined;
  port: number | Unknown | undefined;
  requestPath: string | Unknown | undefined;
}

export interface ScaleSetFacts {
  orchestrationMode: string | Unknown | undefined;
  identityType: string | Unknown | undefined;
  /** UNKNOWN when not known, undefined when the platform default applies. */
  overprovision: boolean | Unknown | undefined;
  doNotRunExtensionsOnOverprovisionedVMs: boolean | Unknown | undefined;
  customData: DecodedCustomData | Unknown | undefined;
  customScripts: CustomScriptCommand[];
  shipsWaiter: boolean;
  /** Files the cloud-init document writes, decoded. */
  files: Map<string, string>;
  /** Commands the cloud-init document runs (runcmd, bootcmd). */
  commands: CloudConfigCommand[];
  principalId: string | undefined;
  healthExtensions: HealthExtensionFacts[];
  /** automaticRepairsPolicy.enabled: undefined when unset (the platform default is off). */
  automaticRepairs: boolean | Unknown | undefined;
  /** networkProfile.healthProbe: the load balancer probe, the other health source repairs accept. */
  loadBalancerHealthProbe: boolean | Unknown;
}

function isCustomScriptExtension(ext: unknown): boolean {
  const publisher = knownString(at(ext, "publisher"))?.toLowerCase();
  const type = knownString(at(ext, "type"))?.toLowerCase();
  return CUSTOM_SCRIPT_EXTENSIONS.some((c) => c.publisher === publisher && c.type === type);
}

/** The CSE's command: `commandToExecute`, or the base64 (possibly gzip) `script`, in either settings bag. */
function customScriptCommand(ext: unknown): string | Unknown | undefined {
  for (const bag of ["protectedSettings", "settings"]) {
    const settings = at(ext, bag);
    if (settings === UNKNOWN) return UNKNOWN;
    const command = at(settings, "commandToExecute");
    if (command === UNKNOWN) return UNKNOWN;
    if (typeof command === "string" && command.length > 0) return command;
    const script = at(settings, "script");
    if (script === UNKNOWN) return UNKNOWN;
    if (typeof script === "string" && script.length > 0) return decodeCustomData(script).text;
  }
  return undefined;
}

function isHealthExtension(ext: unknown): boolean {
  const publisher = knownString(at(ext, "publisher"))?.toLowerCase();
  const type = knownString(at(ext, "type"))?.toLowerCase();
  return publisher === HEALTH_EXTENSION_PUBLISHER.toLowerCase() && HEALTH_EXTENSION_TYPES.includes(type ?? "");
}

function healthExtensionFacts(ext: unknown, i: number): HealthExtensionFacts {
  const settings = at(ext, "settings");
  const field = (key: string) => (settings === UNKNOWN ? UNKNOWN : at(settings, key));
  const str = (v: unknown) => (v === UNKNOWN ? UNKNOWN : typeof v === "string" ? v : undefined);
  const port = field("port");
  return {
    extensionName: knownString(at(ext, "name")) ?? `extension #${i}`,
    typeHandlerVersion: str(at(ext, "typeHandlerVersion")),
    protocol: str(field("protocol")),
    port: port === UNKNOWN ? UNKNOWN : typeof port === "number" ? port : undefined,
    requestPath: str(field("requestPath")),
  };
}

export function scaleSetFacts(props: unknown): ScaleSetFacts {
  const p = rawProps(props);
  const osProfile = at(p, "virtualMachineProfile", "osProfile");
  const rawCustomData = at(osProfile, "customData");
  const customData =
    rawCustomData === UNKNOWN
      ? UNKNOWN
      : typeof rawCustomData === "string" && rawCustomData.length > 0
        ? decodeCustomData(rawCustomData)
        : undefined;
  const extensions = at(p, "virtualMachineProfile", "extensionProfile", "extensions");
  const customScripts: CustomScriptCommand[] = Array.isArray(extensions)
    ? extensions.filter(isCustomScriptExtension).map((ext, i) => ({
        extensionName: knownString(at(ext, "name")) ?? `extension #${i}`,
        command: customScriptCommand(ext),
      }))
    : [];
  const healthExtensions = Array.isArray(extensions)
    ? extensions.filter(isHealthExtension).map(healthExtensionFacts)
    : [];
  const probe = at(p, "virtualMachineProfile", "networkProfile", "healthProbe");
  const text = customData !== UNKNOWN && customData !== undefined ? customData.text : "";
  const cloudConfig = readCloudConfig(text);
  const bool = (v: unknown) => (v === UNKNOWN ? UNKNOWN : typeof v === "boolean" ? v : undefined);
  const str = (v: unknown) => (v === UNKNOWN ? UNKNOWN : typeof v === "string" ? v : undefined);
  return {
    orchestrationMode: str(at(p, "orchestrationMode")),
    identityType: str(at(p, "identity", "type")),
    overprovision: bool(at(p, "overprovision")),
    doNotRunExtensionsOnOverprovisionedVMs: bool(at(p, "doNotRunExtensionsOnOverprovisionedVMs")),
    customData,
    customScripts,
    shipsWaiter: text.includes(WAITER_PATH),
    files: cloudConfig.files,
    commands: cloudConfig.commands,
    principalId: knownString(at(p, "identity", "principalId")),
    healthExtensions,
    automaticRepairs: bool(at(p, "automaticRepairsPolicy", "enabled")),
    loadBalancerHealthProbe: probe === UNKNOWN ? UNKNOWN : probe !== undefined && probe !== null,
  };
}
