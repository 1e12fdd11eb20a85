/**
 * The hpc-workers CrossGuard rules, kept apart from `new PolicyPack(...)` (policy/index.ts) because
 * constructing a pack starts a gRPC server that never exits, and a second one in a process calls
 * `process.exit(1)`. Tests and the offline evaluator import this module only.
 *
 * Every rule reads the raw values behind the engine's unknown-checking proxy, so a value that is not
 * known during a preview (a principalId, a resource group id) skips that one check instead of turning
 * the whole rule into a "can't run during preview" advisory. The literal inputs are still checked.
 */
import * as zlib from "zlib";
import * as YAML from "yaml";
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { LAUNCHER_PATH, MAX_CUSTOM_DATA_BYTES, READER_ROLE_DEFINITION_GUID, WAITER_PATH } from "../components/defaults";

// ------------------------------------------------------------------------------------------------
// Constants
// ------------------------------------------------------------------------------------------------

export const PACK_NAME = "hpc-workers";

/** Versioned tokens (`azure-native:compute/v20240701:...`) name the same ARM resource. */
const VMSS_TYPE_RE = /^azure-native:compute(\/v[0-9a-z]+)?:VirtualMachineScaleSet$/;
const ROLE_ASSIGNMENT_TYPE_RE = /^azure-native:authorization(\/v[0-9a-z]+)?:RoleAssignment$/;

/** Built-in roles that include Reader's `*\/read`, so the waiter can read its VM with any of them.
 *  https://learn.microsoft.com/azure/role-based-access-control/built-in-roles */
const OWNER_ROLE_DEFINITION_GUID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR_ROLE_DEFINITION_GUID = "b24988ac-6180-42a0-ab88-20f7382dd24c";
/** Names for messages only; https://learn.microsoft.com/azure/role-based-access-control/built-in-roles */
const WELL_KNOWN_ROLE_NAMES: Record<string, string> = {
  [READER_ROLE_DEFINITION_GUID]: "Reader",
  [CONTRIBUTOR_ROLE_DEFINITION_GUID]: "Contributor",
  [OWNER_ROLE_DEFINITION_GUID]: "Owner",
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
  "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": "Virtual Machine Contributor",
};

/** Soft budget for decoded custom data: 48 KiB, three quarters of the platform limit, so a user's own
 *  additions have room before `custom-data-platform-limit` blocks the deployment. A project choice. */
export const DEFAULT_CUSTOM_DATA_SOFT_BUDGET_BYTES = 49152;

/** The Custom Script Extension for Linux: v2 (`Microsoft.Azure.Extensions/CustomScript`) and the
 *  retired v1. https://learn.microsoft.com/azure/virtual-machines/extensions/custom-script-linux */
const CUSTOM_SCRIPT_EXTENSIONS = [
  { publisher: "microsoft.azure.extensions", type: "customscript" },
  { publisher: "microsoft.ostcextensions", type: "customscriptforlinux" },
];

/** gzip member header (RFC 1952, section 2.3.1): cloud-init accepts gzip-compressed user data. */
const GZIP_MAGIC = [0x1f, 0x8b];

// ------------------------------------------------------------------------------------------------
// Unknown values and raw props
// ------------------------------------------------------------------------------------------------

/** The engine's sentinels for values not known during a preview. They are internal to
 *  @pulumi/policy (no typings), and also what the evaluator's proxy uses. */
const proxyInternals: Record<string, unknown> = require("@pulumi/policy/proxy");
const UNKNOWN_SENTINELS = new Set(
  Object.keys(proxyInternals)
    .filter((k) => /^unknown[A-Z]\w*Value$/.test(k))
    .map((k) => proxyInternals[k]),
);
/** Reading this key through @pulumi/policy's proxy returns the object behind it, without the
 *  throw-on-unknown checks. */
const PROXY_TARGET_KEY = "__getSpecialProxyTarget";

export const UNKNOWN = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN || (typeof value === "string" && UNKNOWN_SENTINELS.has(value));
}

/** The plain object behind an engine proxy (or the value itself). Nested values are plain too. */
export function rawProps(props: unknown): Record<string, any> {
  if (props && typeof props === "object") {
    const target = (props as any)[PROXY_TARGET_KEY];
    if (target && typeof target === "object") return target;
    return props as Record<string, any>;
  }
  return {};
}

/** Reads `obj.a.b.c`, returning UNKNOWN as soon as a step is unknown and undefined when missing. */
export function at(obj: unknown, ...path: (string | number)[]): any {
  let cur: any = obj;
  for (const key of path) {
    if (isUnknown(cur)) return UNKNOWN;
    if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
    cur = cur[key];
  }
  return isUnknown(cur) ? UNKNOWN : cur;
}

function knownString(value: unknown): string | undefined {
  return typeof value === "string" && !isUnknown(value) ? value : undefined;
}

// ------------------------------------------------------------------------------------------------
// Pure analysis of a scale set
// ------------------------------------------------------------------------------------------------

export function isScaleSetType(type: string): boolean {
  return VMSS_TYPE_RE.test(type);
}

export function isRoleAssignmentType(type: string): boolean {
  return ROLE_ASSIGNMENT_TYPE_RE.test(type);
}

export interface DecodedCustomData {
  /** Characters of the base64 string sent to ARM. */
  base64Length: number;
  /** Bytes after base64 decoding: what the platform limit counts. */
  bytes: number;
  /** Whether the decoded bytes are gzip-compressed. */
  gzip: boolean;
  /** The text cloud-init reads (gunzipped when compressed). */
  text: string;
  /** False when the value is not base64 at all (ARM rejects it). */
  validBase64: boolean;
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes `osProfile.customData` the way the platform and cloud-init read it. */
export function decodeCustomData(base64: string): DecodedCustomData {
  const compact = base64.replace(/\s+/g, "");
  const validBase64 = BASE64_RE.test(compact) && compact.length % 4 === 0;
  const bytes = Buffer.from(compact, "base64");
  const gzip = bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
  let text: string;
  if (!validBase64) {
    text = base64;
  } else if (gzip) {
    try {
      text = zlib.gunzipSync(bytes).toString("utf8");
    } catch {
      text = "";
    }
  } else {
    text = bytes.toString("utf8");
  }
  return {
    base64Length: base64.length,
    bytes: validBase64 ? bytes.length : Buffer.byteLength(base64),
    gzip,
    text,
    validBase64,
  };
}

export interface CustomScriptCommand {
  extensionName: string;
  /** The command, when it is a known literal; UNKNOWN when not known during a preview. */
  command: string | Unknown | undefined;
}

/** Files a `#cloud-config` document writes (write_files), decoded; empty for anything else. */
export function cloudInitFiles(text: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!/^#cloud-config\s*$/m.test(text.split("\n", 1)[0] ?? "")) return files;
  let doc: any;
  try {
    doc = YAML.parse(text);
  } catch {
    return files;
  }
  for (const f of Array.isArray(doc?.write_files) ? doc.write_files : []) {
    if (typeof f?.path !== "string") continue;
    const content = typeof f.content === "string" ? f.content : "";
    const encoding = String(f.encoding ?? "").toLowerCase();
    let decoded = content;
    try {
      if (/^(gz\+b64|gzip\+base64|gz\+base64|gzip\+b64)$/.test(encoding))
        decoded = zlib.gunzipSync(Buffer.from(content, "base64")).toString("utf8");
      else if (/^(b64|base64)$/.test(encoding)) decoded = Buffer.from(content, "base64").toString("utf8");
    } catch {
      decoded = "";
    }
    files.set(f.path, decoded);
  }
  return files;
}

/** systemd's unit directory for units an administrator installs. https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html */
const SYSTEMD_UNIT_DIR = "/etc/systemd/system/";

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
  principalId: string | undefined;
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
  const text = customData !== UNKNOWN && customData !== undefined ? customData.text : "";
  const shipsWaiter = text.includes(WAITER_PATH);
  const bool = (v: unknown) => (v === UNKNOWN ? UNKNOWN : typeof v === "boolean" ? v : undefined);
  const str = (v: unknown) => (v === UNKNOWN ? UNKNOWN : typeof v === "string" ? v : undefined);
  return {
    orchestrationMode: str(at(p, "orchestrationMode")),
    identityType: str(at(p, "identity", "type")),
    overprovision: bool(at(p, "overprovision")),
    doNotRunExtensionsOnOverprovisionedVMs: bool(at(p, "doNotRunExtensionsOnOverprovisionedVMs")),
    customData,
    customScripts,
    shipsWaiter,
    files: cloudInitFiles(text),
    principalId: knownString(at(p, "identity", "principalId")),
  };
}

/**
 * A CSE command starts work only through the waiter when it runs the launcher or the waiter itself,
 * or starts a systemd unit that custom data installs with the launcher as its ExecStart.
 */
export function goesThroughWaiter(command: string, files: Map<string, string> = new Map()): boolean {
  if (command.includes(LAUNCHER_PATH) || command.includes(WAITER_PATH)) return true;
  const units = startedUnits(command);
  return units.length > 0 && units.every((u) => gatedUnit(files.get(SYSTEMD_UNIT_DIR + u) ?? ""));
}

const SYSTEMCTL_START_VERBS = new Set(["start", "restart", "try-restart", "reload-or-restart", "enable"]);

/** Units a command starts with `systemctl start|restart|enable …` (options skipped, ".service" implied). */
export function startedUnits(command: string): string[] {
  const units: string[] = [];
  for (const segment of command.split(/;|&&|\|\||\n/)) {
    const tokens = segment.trim().split(/\s+/);
    const at = tokens.findIndex((t) => /(^|\/)systemctl$/.test(t));
    if (at < 0) continue;
    const args = tokens.slice(at + 1).filter((t) => !t.startsWith("-"));
    if (!SYSTEMCTL_START_VERBS.has(args[0] ?? "")) continue;
    for (const unit of args.slice(1)) units.push(/\.[a-z]+$/.test(unit) ? unit : `${unit}.service`);
  }
  return units;
}

function gatedUnit(unit: string): boolean {
  const execStarts = unit.match(/^\s*ExecStart\s*=.*$/gm) ?? [];
  return (
    execStarts.length > 0 && execStarts.every((line) => line.includes(LAUNCHER_PATH) || line.includes(WAITER_PATH))
  );
}

/** A scale set runs the waiter when its custom data ships it or a CSE command calls it. */
export function runsWaiter(facts: ScaleSetFacts): boolean {
  return (
    facts.shipsWaiter || facts.customScripts.some((c) => typeof c.command === "string" && goesThroughWaiter(c.command))
  );
}

// ------------------------------------------------------------------------------------------------
// Rule checks: pure, return the reasons of every violation
// ------------------------------------------------------------------------------------------------

export function checkWaiterIdentityAndOrchestration(facts: ScaleSetFacts): string[] {
  if (!runsWaiter(facts)) return [];
  const reasons: string[] = [];
  if (facts.identityType === undefined) {
    reasons.push(
      'runs the waiter but has no managed identity: set identity: { type: "SystemAssigned" } (the waiter reads the VM\'s provisioning state with it)',
    );
  } else if (facts.identityType !== UNKNOWN && !/systemassigned/i.test(facts.identityType)) {
    reasons.push(
      `runs the waiter but identity.type is "${facts.identityType}": set identity: { type: "SystemAssigned" }`,
    );
  }
  if (facts.orchestrationMode === undefined) {
    reasons.push('runs the waiter but orchestrationMode is not set: set orchestrationMode: "Uniform" explicitly');
  } else if (facts.orchestrationMode !== UNKNOWN && facts.orchestrationMode !== "Uniform") {
    reasons.push(
      `runs the waiter but orchestrationMode is "${facts.orchestrationMode}": set orchestrationMode: "Uniform" (Flexible rejects SystemAssigned identities and has no overprovisioning)`,
    );
  }
  return reasons;
}

export function checkOverprovisioning(facts: ScaleSetFacts): string[] {
  // Flexible orchestration has no overprovisioning; unknown values cannot be judged.
  if (facts.orchestrationMode === "Flexible" || facts.overprovision === UNKNOWN) return [];
  // The platform overprovisions a Uniform scale set when `overprovision` is unset.
  if (facts.overprovision === false) return [];
  const setting =
    facts.overprovision === undefined
      ? "overprovision is unset (the platform default is true)"
      : "overprovision is true";
  const reasons: string[] = [];
  if (facts.customData !== UNKNOWN && facts.customData !== undefined && !facts.shipsWaiter) {
    reasons.push(
      `${setting} and custom data starts software on every VM, including the extra VMs the platform creates and then deletes, without the waiter (${WAITER_PATH}): gate the worker with the waiter (WorkerScaleSet does) or set overprovision: false`,
    );
  }
  for (const cse of facts.customScripts) {
    if (cse.command === UNKNOWN) continue;
    const gated = facts.shipsWaiter && typeof cse.command === "string" && goesThroughWaiter(cse.command, facts.files);
    if (!gated && facts.doNotRunExtensionsOnOverprovisionedVMs !== true) {
      reasons.push(
        `${setting} and the Custom Script Extension "${cse.extensionName}" runs on overprovisioned VMs without the waiter: set doNotRunExtensionsOnOverprovisionedVMs: true, or run the worker through ${LAUNCHER_PATH}`,
      );
    }
  }
  return reasons;
}

export function checkSshKeyOnly(props: unknown): string[] {
  const p = rawProps(props);
  const osProfile = at(p, "virtualMachineProfile", "osProfile");
  if (osProfile === undefined || osProfile === UNKNOWN) return [];
  if (at(osProfile, "windowsConfiguration") !== undefined) return [];
  const reasons: string[] = [];
  const linux = at(osProfile, "linuxConfiguration");
  if (linux === UNKNOWN) return reasons;
  const disable = at(linux, "disablePasswordAuthentication");
  if (disable !== UNKNOWN && disable !== true) {
    reasons.push(
      "password login is allowed: set virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication: true",
    );
  }
  const password = at(osProfile, "adminPassword");
  if (password !== undefined && password !== "") {
    reasons.push("osProfile.adminPassword is set: remove it and log in with an SSH key");
  }
  const keys = at(linux, "ssh", "publicKeys");
  if (keys !== UNKNOWN && (!Array.isArray(keys) || keys.length === 0)) {
    reasons.push("no SSH public key: add one to virtualMachineProfile.osProfile.linuxConfiguration.ssh.publicKeys");
  }
  return reasons;
}

export function checkCustomDataPlatformLimit(facts: ScaleSetFacts, limitBytes = MAX_CUSTOM_DATA_BYTES): string[] {
  const cd = facts.customData;
  if (cd === undefined || cd === UNKNOWN) return [];
  if (!cd.validBase64)
    return ["osProfile.customData is not base64: encode the cloud-init text with base64 (ARM rejects anything else)"];
  if (cd.bytes > limitBytes) {
    return [
      `custom data is ${cd.bytes} bytes decoded, over the platform limit of ${limitBytes}: gzip it, move files out of it, or ship them another way`,
    ];
  }
  return [];
}

export function checkCustomDataSoftBudget(facts: ScaleSetFacts, budgetBytes: number): string[] {
  const cd = facts.customData;
  if (cd === undefined || cd === UNKNOWN || !cd.validBase64) return [];
  // Over the platform limit is custom-data-platform-limit's violation; one finding per cause.
  if (cd.bytes > MAX_CUSTOM_DATA_BYTES) return [];
  if (cd.bytes > budgetBytes) {
    return [
      `custom data is ${cd.bytes} bytes decoded, over the soft budget of ${budgetBytes} (platform limit ${MAX_CUSTOM_DATA_BYTES}): trim it, or raise maxBytes in this policy's config`,
    ];
  }
  return [];
}

interface SecretPattern {
  kind: string;
  re: RegExp;
  /** Rejects a match that is not a literal secret (a boolean setting, a variable reference). */
  literal?: (value: string) => boolean;
}

const NOT_A_SECRET_VALUE = /^(?:true|false|yes|no|on|off|null|none|\$.*|<.*>)$/i;

/** What must never travel in custom data: it is readable by anything on the VM through IMDS and the
 *  waagent files, and is stored with the scale set model. */
const SECRET_PATTERNS: SecretPattern[] = [
  { kind: "a private key", re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { kind: "a storage account key", re: /AccountKey=[A-Za-z0-9+/]{20,}={0,2}/i },
  { kind: "a shared access key", re: /SharedAccessKey=[A-Za-z0-9+/]{20,}={0,2}/i },
  { kind: "a SAS signature", re: /[?&]sig=[A-Za-z0-9%+/=_-]{16,}/i },
  {
    kind: "a cloud-init password",
    re: /^[ \t]*-?[ \t]*(?:plain_text_passwd|hashed_passwd|passwd)[ \t]*:[ \t]*["']?([^\s"'#]+)/im,
    literal: (v) => !NOT_A_SECRET_VALUE.test(v),
  },
  { kind: "a chpasswd list", re: /^\s*chpasswd\s*:\s*$(?:\n\s+.*)*?\n\s+(?:list|users)\s*:/im },
  {
    kind: "a password",
    re: /\b[\w.-]*passw(?:or)?d[\w.-]*[ \t]*[:=][ \t]*["']?([^\s"'#,;]{3,})/i,
    literal: (v) => !NOT_A_SECRET_VALUE.test(v),
  },
  { kind: "a password flag", re: /--password(?:=|\s+)["']?([^\s"']+)/i, literal: (v) => !NOT_A_SECRET_VALUE.test(v) },
];

/** Kinds of secret found, each with its line number; never the value itself. */
export function findSecrets(text: string): string[] {
  const found: string[] = [];
  for (const { kind, re, literal } of SECRET_PATTERNS) {
    const all = new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g");
    for (const m of text.matchAll(all)) {
      if (literal && !literal(m[1] ?? "")) continue;
      const line = text.slice(0, m.index).split("\n").length;
      found.push(`${kind} (line ${line})`);
      break;
    }
  }
  return found;
}

export function checkCustomDataSecrets(facts: ScaleSetFacts): string[] {
  const cd = facts.customData;
  if (cd === undefined || cd === UNKNOWN) return [];
  // write_files content encoded as b64 or gz+b64 is as readable on the VM as plain text.
  const found = [
    ...findSecrets(cd.text),
    ...[...facts.files].flatMap(([file, content]) =>
      findSecrets(content).map((f) => `${f.replace(/\)$/, "")} of ${file})`),
    ),
  ];
  if (found.length === 0) return [];
  return [
    `custom data carries ${found.join(", ")}: anything on the VM can read custom data, so pass secrets through Key Vault and the managed identity instead`,
  ];
}

// ------------------------------------------------------------------------------------------------
// Role assignments linked to a scale set's principal (stack level)
// ------------------------------------------------------------------------------------------------

export function roleDefinitionGuid(roleDefinitionId: string): string {
  return roleDefinitionId.replace(/\/+$/, "").split("/").pop()!.toLowerCase();
}

function roleLabel(guid: string): string {
  const name = WELL_KNOWN_ROLE_NAMES[guid];
  return name ? `${name} (${guid})` : guid;
}

export type ScopeKind = "root" | "managementGroup" | "subscription" | "resourceGroup" | "resource" | "other";

/** https://learn.microsoft.com/azure/role-based-access-control/scope-overview#scope-format */
export function scopeKind(scope: string): ScopeKind {
  const s = scope.trim().replace(/\/+$/, "");
  if (s === "") return "root";
  if (/^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+$/i.test(s)) return "managementGroup";
  if (/^\/subscriptions\/[^/]+$/i.test(s)) return "subscription";
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(s)) return "resourceGroup";
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+/i.test(s)) return "resource";
  return "other";
}

/** Whether an assignment at `scope` reaches `resourceId`. A management group may hold the
 *  subscription, which only ARM knows, so it counts as covering. */
function scopeCovers(scope: string, resourceId: string): boolean {
  const kind = scopeKind(scope);
  if (kind === "root" || kind === "managementGroup") return true;
  const s = scope.trim().replace(/\/+$/, "").toLowerCase();
  const id = resourceId.toLowerCase();
  return id === s || id.startsWith(s + "/");
}

export interface LinkedAssignment {
  assignment: PolicyResource;
  scaleSet: PolicyResource;
}

function isComponentParent(r: PolicyResource | undefined): r is PolicyResource {
  return r !== undefined && r.type !== "pulumi:pulumi:Stack";
}

/**
 * Which scale set's principal each role assignment targets. A known principalId decides alone;
 * otherwise (a preview, where it is unknown) the assignment's principalId depending on the scale set,
 * a dependency on it, or being its sibling inside one component links them.
 */
export function linkRoleAssignments(resources: PolicyResource[]): LinkedAssignment[] {
  const scaleSets = resources.filter((r) => isScaleSetType(r.type));
  const links: LinkedAssignment[] = [];
  for (const assignment of resources.filter((r) => isRoleAssignmentType(r.type))) {
    const principalId = knownString(at(rawProps(assignment.props), "principalId"));
    for (const scaleSet of scaleSets) {
      const scaleSetPrincipal = knownString(at(rawProps(scaleSet.props), "identity", "principalId"));
      let linked: boolean;
      if (principalId !== undefined && scaleSetPrincipal !== undefined) {
        linked = principalId.toLowerCase() === scaleSetPrincipal.toLowerCase();
      } else {
        const principalDeps = assignment.propertyDependencies?.["principalId"];
        linked =
          (principalDeps ?? []).some((d) => d.urn === scaleSet.urn) ||
          (principalDeps === undefined && (assignment.dependencies ?? []).some((d) => d.urn === scaleSet.urn)) ||
          (isComponentParent(assignment.parent) && assignment.parent.urn === scaleSet.parent?.urn);
      }
      if (linked) links.push({ assignment, scaleSet });
    }
  }
  return links;
}

export function checkAssignmentRole(assignmentProps: unknown, allowedGuids: string[]): string[] {
  const id = knownString(at(rawProps(assignmentProps), "roleDefinitionId"));
  if (id === undefined) return [];
  const guid = roleDefinitionGuid(id);
  const allowed = allowedGuids.map((g) => roleDefinitionGuid(g));
  if (allowed.includes(guid)) return [];
  return [
    `grants ${roleLabel(guid)} to a scale set's principal: use Reader (${READER_ROLE_DEFINITION_GUID}), or add the role to allowedRoleDefinitionIds in this policy's config`,
  ];
}

export function checkAssignmentScope(assignmentProps: unknown): string[] {
  const scope = knownString(at(rawProps(assignmentProps), "scope"));
  if (scope === undefined) return [];
  const kind = scopeKind(scope);
  if (kind === "resourceGroup" || kind === "resource") return [];
  const what: Record<ScopeKind, string> = {
    root: "the tenant root",
    managementGroup: "a management group",
    subscription: "a subscription",
    resourceGroup: "",
    resource: "",
    other: "an unrecognised scope",
  };
  return [`scope "${scope}" is ${what[kind]}: scope it to the resource group (or the scale set) the waiter reads`];
}

export function checkAssignmentPrincipalType(assignmentProps: unknown): string[] {
  const type = at(rawProps(assignmentProps), "principalType");
  if (type === UNKNOWN) return [];
  if (typeof type === "string" && type.toLowerCase() === "serviceprincipal") return [];
  const got = type === undefined ? "is not set" : `is "${type}"`;
  return [
    `principalType ${got}: set principalType: "ServicePrincipal" so ARM does not look the new identity up in Entra and fail with PrincipalNotFound`,
  ];
}

/** Scale sets that ship the waiter but have no role assignment through which it can read itself. */
export function scaleSetsMissingReader(resources: PolicyResource[], readerGuids: string[]): PolicyResource[] {
  const links = linkRoleAssignments(resources);
  const allowed = readerGuids.map(roleDefinitionGuid);
  return resources
    .filter((r) => {
      const facts = scaleSetFacts(r.props);
      // Without a system-assigned identity there is no principal to grant anything to; that is
      // waiter-scale-set-identity-and-orchestration's finding, reported once.
      const hasPrincipal =
        facts.identityType === UNKNOWN ||
        (typeof facts.identityType === "string" && /systemassigned/i.test(facts.identityType));
      return isScaleSetType(r.type) && facts.shipsWaiter && hasPrincipal;
    })
    .filter((scaleSet) => {
      const scaleSetId = knownString(at(rawProps(scaleSet.props), "id"));
      return !links.some((l) => {
        if (l.scaleSet !== scaleSet) return false;
        const a = rawProps(l.assignment.props);
        const roleId = at(a, "roleDefinitionId");
        const roleOk =
          roleId === UNKNOWN || (typeof roleId === "string" && allowed.includes(roleDefinitionGuid(roleId)));
        const scope = knownString(at(a, "scope"));
        const scopeOk = scope === undefined || scaleSetId === undefined || scopeCovers(scope, scaleSetId);
        return roleOk && scopeOk;
      });
    });
}

// ------------------------------------------------------------------------------------------------
// Policy factories
// ------------------------------------------------------------------------------------------------

interface PolicyMeta {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  remediationSteps: string;
  configSchema?: PolicyConfigSchema;
}

/** A resource policy over scale sets; `check` returns the reasons of every violation. */
export function scaleSetPolicy(
  meta: PolicyMeta,
  check: (props: unknown, args: ResourceValidationArgs) => string[],
): ResourceValidationPolicy {
  return {
    ...meta,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      if (!isScaleSetType(args.type)) return;
      for (const reason of check(args.props, args)) report(reason);
    },
  };
}

/** A stack policy over every role assignment that targets a scale set's principal. */
export function linkedAssignmentPolicy(
  meta: PolicyMeta,
  check: (assignmentProps: unknown, args: StackValidationArgs) => string[],
): StackValidationPolicy {
  return {
    ...meta,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const seen = new Set<string>();
      for (const { assignment, scaleSet } of linkRoleAssignments(args.resources)) {
        if (seen.has(assignment.urn)) continue;
        seen.add(assignment.urn);
        for (const reason of check(assignment.props, args)) {
          report(`${reason} (principal of ${scaleSet.name})`, assignment.urn);
        }
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------
// The rules
// ------------------------------------------------------------------------------------------------

export const waiterIdentityAndOrchestration = scaleSetPolicy(
  {
    name: "waiter-scale-set-identity-and-orchestration",
    description: "A scale set that runs the waiter has a SystemAssigned identity and explicit Uniform orchestration.",
    enforcementLevel: "mandatory",
    remediationSteps: 'Set identity: { type: "SystemAssigned" } and orchestrationMode: "Uniform" on the scale set.',
  },
  (props) => checkWaiterIdentityAndOrchestration(scaleSetFacts(props)),
);

export const overprovisioningGated = scaleSetPolicy(
  {
    name: "overprovisioning-gated-by-waiter",
    description:
      "With overprovisioning on, the worker starts only through the waiter, and a Custom Script Extension that bypasses it never runs on the extra VMs.",
    enforcementLevel: "mandatory",
    remediationSteps:
      "Ship the waiter in custom data (WorkerScaleSet does), run any CSE command through the launcher or set doNotRunExtensionsOnOverprovisionedVMs: true, or set overprovision: false.",
  },
  (props) => checkOverprovisioning(scaleSetFacts(props)),
);

export const sshKeyOnly = scaleSetPolicy(
  {
    name: "linux-ssh-key-only",
    description: "Linux scale sets accept SSH-key login only: password authentication disabled, no admin password.",
    enforcementLevel: "mandatory",
    remediationSteps:
      "Set linuxConfiguration.disablePasswordAuthentication: true, drop adminPassword, and add an SSH public key.",
  },
  (props) => checkSshKeyOnly(props),
);

export const customDataPlatformLimit = scaleSetPolicy(
  {
    name: "custom-data-platform-limit",
    description: `Custom data is base64 and at most ${MAX_CUSTOM_DATA_BYTES} bytes decoded, the platform limit.`,
    enforcementLevel: "mandatory",
    remediationSteps: "gzip the cloud-init document, or move large files out of custom data.",
  },
  (props) => checkCustomDataPlatformLimit(scaleSetFacts(props)),
);

export const customDataSoftBudget = scaleSetPolicy(
  {
    name: "custom-data-soft-budget",
    description: "Custom data stays under a configurable soft budget, leaving headroom below the platform limit.",
    enforcementLevel: "advisory",
    remediationSteps: "Trim custom data, or raise maxBytes in this policy's config.",
    configSchema: {
      properties: {
        maxBytes: {
          type: "integer",
          minimum: 1,
          maximum: MAX_CUSTOM_DATA_BYTES,
          default: DEFAULT_CUSTOM_DATA_SOFT_BUDGET_BYTES,
          description: "Soft budget for decoded custom data, in bytes.",
        },
      },
    },
  },
  (props, args) => {
    const { maxBytes } = args.getConfig<{ maxBytes?: number }>();
    return checkCustomDataSoftBudget(scaleSetFacts(props), maxBytes ?? DEFAULT_CUSTOM_DATA_SOFT_BUDGET_BYTES);
  },
);

export const customDataNoSecrets = scaleSetPolicy(
  {
    name: "custom-data-no-secrets",
    description: "Custom data carries no secrets: passwords, storage keys, SAS signatures or private keys.",
    enforcementLevel: "mandatory",
    remediationSteps: "Keep secrets in Key Vault and let the VM fetch them with its managed identity.",
  },
  (props) => checkCustomDataSecrets(scaleSetFacts(props)),
);

export const readerOnly = linkedAssignmentPolicy(
  {
    name: "role-assignment-reader-only",
    description:
      "Role assignments to a scale set's principal grant only Reader, or a role on the configured allow-list.",
    enforcementLevel: "mandatory",
    remediationSteps: `Use the Reader role definition (${READER_ROLE_DEFINITION_GUID}).`,
    configSchema: {
      properties: {
        allowedRoleDefinitionIds: {
          type: "array",
          items: { type: "string" },
          default: [READER_ROLE_DEFINITION_GUID],
          description: "Role definition GUIDs (or full role definition ids) a scale set's principal may be granted.",
        },
      },
    },
  },
  (props, args) => {
    const { allowedRoleDefinitionIds } = args.getConfig<{ allowedRoleDefinitionIds?: string[] }>();
    return checkAssignmentRole(props, allowedRoleDefinitionIds ?? [READER_ROLE_DEFINITION_GUID]);
  },
);

export const scopeResourceGroupOrNarrower = linkedAssignmentPolicy(
  {
    name: "role-assignment-scope-resource-group-or-narrower",
    description:
      "Role assignments to a scale set's principal are scoped to a resource group or narrower, never a subscription or management group.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set scope to the resource group id (or the scale set id).",
  },
  (props) => checkAssignmentScope(props),
);

export const servicePrincipalType = linkedAssignmentPolicy(
  {
    name: "role-assignment-service-principal-type",
    description: "Role assignments to a scale set's principal set principalType: ServicePrincipal.",
    enforcementLevel: "mandatory",
    remediationSteps: 'Set principalType: "ServicePrincipal".',
  },
  (props) => checkAssignmentPrincipalType(props),
);

const READER_CAPABLE_ROLE_GUIDS = [
  READER_ROLE_DEFINITION_GUID,
  CONTRIBUTOR_ROLE_DEFINITION_GUID,
  OWNER_ROLE_DEFINITION_GUID,
];

export const waiterHasReader: StackValidationPolicy = {
  name: "waiter-scale-set-has-reader",
  description:
    "Every scale set that ships the waiter has a Reader role assignment for its principal, covering the scale set.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Add a RoleAssignment with the Reader role at the resource group, principalId from the scale set identity and principalType "ServicePrincipal" (WorkerScaleSet does).',
  configSchema: {
    properties: {
      readerRoleDefinitionIds: {
        type: "array",
        items: { type: "string" },
        default: READER_CAPABLE_ROLE_GUIDS,
        description:
          "Roles that let the waiter read its VM (over-broad ones are role-assignment-reader-only's concern).",
      },
    },
  },
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const { readerRoleDefinitionIds } = args.getConfig<{ readerRoleDefinitionIds?: string[] }>();
    for (const scaleSet of scaleSetsMissingReader(
      args.resources,
      readerRoleDefinitionIds ?? READER_CAPABLE_ROLE_GUIDS,
    )) {
      report(
        "ships the waiter but no Reader role assignment covering it targets its principal: the waiter cannot read the VM's provisioning state, so the worker never starts. Add a Reader RoleAssignment at the resource group",
        scaleSet.urn,
      );
    }
  },
};

export const resourcePolicies: ResourceValidationPolicy[] = [
  waiterIdentityAndOrchestration,
  overprovisioningGated,
  sshKeyOnly,
  customDataPlatformLimit,
  customDataSoftBudget,
  customDataNoSecrets,
];

export const stackPolicies: StackValidationPolicy[] = [
  readerOnly,
  scopeResourceGroupOrNarrower,
  servicePrincipalType,
  waiterHasReader,
];

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [...resourcePolicies, ...stackPolicies];
