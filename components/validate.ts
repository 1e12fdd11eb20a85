/**
 * Pure validation of the component's arguments. Only plain values are checked here (an
 * Output is checked by the platform when it resolves). Every problem is collected, so the
 * user fixes them all in one round, and each reason names the property and the fix.
 */
import type { InputPropertyErrorDetails } from "@pulumi/pulumi";
import { DEFAULT_OVERPROVISION, MAX_SINGLE_PLACEMENT_GROUP_CAPACITY, MAX_UNIFORM_CAPACITY } from "./defaults";
import { DeliveryMode, WorkerKind } from "./delivery";
import { spotProblems } from "./spot";
import { NOT_YET_KNOWN, Unknowable, enumChoice, known, problem, show } from "./validateBase";

export { NOT_YET_KNOWN, Unknowable } from "./validateBase";
import {
  DEFAULT_AUTOMATIC_REPAIRS_ENABLED,
  HEALTH_BOOT_ALLOWANCE_SECONDS,
  healthProbeSettleSeconds,
  isoDurationMinutes,
  MAX_HEALTH_GRACE_PERIOD_SECONDS,
  MAX_HEALTH_PORT,
  MAX_REPAIR_GRACE_MINUTES,
  MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION,
  MIN_HEALTH_PORT,
  MIN_REPAIR_GRACE_MINUTES,
  RepairAction,
} from "./health";

/** Azure's reserved Linux admin names. https://learn.microsoft.com/azure/virtual-machines/linux/faq#what-are-the-username-requirements-when-creating-a-vm- */
export const RESERVED_ADMIN_USERNAMES = new Set([
  "1",
  "123",
  "a",
  "actuser",
  "adm",
  "admin",
  "admin1",
  "admin2",
  "administrator",
  "aspnet",
  "backup",
  "console",
  "david",
  "guest",
  "john",
  "owner",
  "root",
  "server",
  "sql",
  "support",
  "support_388945a0",
  "sys",
  "test",
  "test1",
  "test2",
  "test3",
  "user",
  "user1",
  "user2",
  "user3",
  "user4",
  "user5",
  "video",
]);
/** Linux admin usernames are at most 64 characters (same FAQ). */
export const MAX_ADMIN_USERNAME_LENGTH = 64;
/** useradd's default NAME_REGEX, 32 characters at most. */
const WORKER_USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
/** RSA keys shorter than this are refused; ECDSA is not supported at all.
 *  https://learn.microsoft.com/azure/virtual-machines/linux/mac-create-ssh-keys#supported-ssh-key-formats */
export const MIN_RSA_KEY_BITS = 2048;
export const SUPPORTED_SSH_KEY_TYPES = ["ssh-rsa", "ssh-ed25519"] as const;
/** Resource tags: at most 50, names ≤ 512 and values ≤ 256 characters, names without <>%&\?/.
 *  https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations */
export const MAX_TAGS = 50;
export const MAX_TAG_NAME_LENGTH = 512;
export const MAX_TAG_VALUE_LENGTH = 256;
/** A week; longer waits point at a stuck deployment rather than a slow one. */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** The arguments as the validator sees them: anything not yet plain is left out. */
export interface PlainArgs {
  resourceGroupName: unknown;
  subnetId: unknown;
  sshPublicKey: unknown;
  workerCommand: unknown;
  delivery: unknown;
  capacity: unknown;
  overprovision: unknown;
  doNotRunExtensionsOnOverprovisionedVMs: unknown;
  singlePlacementGroup: unknown;
  location: unknown;
  vmSize: unknown;
  image: unknown;
  adminUsername: unknown;
  workerUser: unknown;
  workerKind: unknown;
  installNodejs: unknown;
  timeoutSeconds: unknown;
  imdsUrl: unknown;
  armUrl: unknown;
  tags: unknown;
  priority: unknown;
  maxPrice: unknown;
  terminateNotification: unknown;
  drainSeconds: unknown;
  healthExtension: unknown;
  healthPort: unknown;
  automaticRepairs: unknown;
}

type Check = (args: Unknowable<PlainArgs>) => InputPropertyErrorDetails[];

const requireKnownOrOutput =
  (property: keyof PlainArgs, fix: string): Check =>
  (args) =>
    args[property] === undefined || args[property] === null ? [problem(property, `is required; ${fix}`)] : [];

const nonEmptyString =
  (property: keyof PlainArgs, fix: string): Check =>
  (args) => {
    const v = args[property];
    if (!known(v)) return [];
    return typeof v === "string" && v.trim() !== ""
      ? []
      : [problem(property, `must be a non-empty string; ${fix} (got ${show(v)})`)];
  };

const optionalBoolean =
  (property: keyof PlainArgs): Check =>
  (args) => {
    const v = args[property];
    return !known(v) || typeof v === "boolean" ? [] : [problem(property, `must be true or false (got ${show(v)})`)];
  };

const oneOf =
  (property: keyof PlainArgs, values: Record<string, string>, typeName: string): Check =>
  (args) => {
    const v = args[property];
    const allowed = Object.values(values);
    if (!known(v) || allowed.includes(v as string)) return [];
    return [problem(property, `must be ${enumChoice(typeName, values)} (got ${show(v)})`)];
  };

const checkCapacity: Check = (args) => {
  const v = args.capacity;
  if (!known(v)) return [];
  const limit = args.singlePlacementGroup === true ? MAX_SINGLE_PLACEMENT_GROUP_CAPACITY : MAX_UNIFORM_CAPACITY;
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= limit) return [];
  const why =
    args.singlePlacementGroup === true && typeof v === "number" && v > limit && v <= MAX_UNIFORM_CAPACITY
      ? "; above 100, set singlePlacementGroup to false"
      : "";
  return [problem("capacity", `must be an integer from 0 to ${limit} (got ${show(v)})${why}`)];
};

/**
 * With overprovisioning, the extension that writes the kept file certifies a VM as kept only when
 * extensions never run on the extras. Undefined values take the component's defaults.
 */
export function extensionHoldProblem(overprovision: unknown, doNotRunExtensions: unknown): string | undefined {
  if ((overprovision ?? DEFAULT_OVERPROVISION) !== true || doNotRunExtensions !== false) return undefined;
  const which = overprovision === undefined ? "overprovision is true (its default)" : "overprovision is true";
  return (
    `doNotRunExtensionsOnOverprovisionedVMs must be true when ${which}: the extension that writes the kept file ` +
    "proves that a VM survives the overprovisioning cull only if extensions never run on the extra VMs, so with false " +
    "workers would start on extras; set doNotRunExtensionsOnOverprovisionedVMs: true (or leave it unset), or set overprovision: false"
  );
}

const checkExtensionHold: Check = (args) => {
  if (args.overprovision === NOT_YET_KNOWN || args.doNotRunExtensionsOnOverprovisionedVMs === NOT_YET_KNOWN) return [];
  const why = extensionHoldProblem(args.overprovision, args.doNotRunExtensionsOnOverprovisionedVMs);
  return why ? [{ propertyPath: "doNotRunExtensionsOnOverprovisionedVMs", reason: why }] : [];
};

const checkWorkerCommand: Check = (args) => {
  const v = args.workerCommand;
  if (!known(v)) return [];
  if (typeof v !== "string" || v.trim() === "") {
    return [
      problem(
        "workerCommand",
        `must be a non-empty /bin/sh command line, e.g. "/usr/local/bin/worker --queue jobs" (got ${show(v)})`,
      ),
    ];
  }
  if (v.includes("\0")) {
    return [problem("workerCommand", "must not contain a NUL byte: no shell argument can carry one; remove it")];
  }
  return [];
};

/** Parses an OpenSSH public key line enough to know what Azure will say of it. */
export function sshKeyProblem(line: string): string | undefined {
  const parts = line.trim().split(/\s+/);
  const example = "paste the one-line public key, e.g. the contents of ~/.ssh/id_ed25519.pub";
  if (parts.length < 2) return `is not an OpenSSH public key ("TYPE BASE64 [comment]"); ${example}`;
  const [type, data] = parts;
  if (!(SUPPORTED_SSH_KEY_TYPES as readonly string[]).includes(type)) {
    return `has type ${show(type)}; Azure accepts only ${SUPPORTED_SSH_KEY_TYPES.join(" or ")} keys; ${example}`;
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return `has a key body that is not base64; ${example}`;
  const blob = Buffer.from(data, "base64");
  const fields: Buffer[] = [];
  for (let offset = 0; offset + 4 <= blob.length;) {
    const length = blob.readUInt32BE(offset);
    if (offset + 4 + length > blob.length) return `is truncated; ${example}`;
    fields.push(blob.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (fields.length === 0 || fields[0].toString("latin1") !== type)
    return `has a body that does not match its type ${type}; ${example}`;
  if (type === "ssh-rsa") {
    const modulus = fields[2];
    if (!modulus) return `is truncated; ${example}`;
    const leadingZero = modulus[0] === 0 ? 1 : 0;
    const bits = (modulus.length - leadingZero) * 8 - Math.clz32(modulus[leadingZero]) + 24;
    if (bits < MIN_RSA_KEY_BITS)
      return `is a ${bits}-bit RSA key; Azure requires at least ${MIN_RSA_KEY_BITS} bits (use ssh-keygen -t ed25519)`;
  }
  return undefined;
}

const checkSshKey: Check = (args) => {
  const v = args.sshPublicKey;
  if (!known(v)) return [];
  if (typeof v !== "string") return [problem("sshPublicKey", `must be a string (got ${show(v)})`)];
  const why = sshKeyProblem(v);
  return why ? [problem("sshPublicKey", why)] : [];
};

const checkSubnetId: Check = (args) => {
  const v = args.subnetId;
  if (!known(v)) return [];
  const pattern =
    /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;
  return typeof v === "string" && pattern.test(v)
    ? []
    : [
        problem(
          "subnetId",
          `must be a subnet resource id (/subscriptions/…/virtualNetworks/VNET/subnets/NAME), e.g. the id output of a Subnet resource (got ${show(v)})`,
        ),
      ];
};

const checkAdminUsername: Check = (args) => {
  const v = args.adminUsername;
  if (!known(v)) return [];
  if (typeof v !== "string" || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(v) || v.length > MAX_ADMIN_USERNAME_LENGTH) {
    return [
      problem(
        "adminUsername",
        `must be 1–${MAX_ADMIN_USERNAME_LENGTH} letters, digits, "_" or "-", not starting with a digit or "-" (got ${show(v)})`,
      ),
    ];
  }
  if (RESERVED_ADMIN_USERNAMES.has(v.toLowerCase())) {
    return [problem("adminUsername", `${show(v)} is reserved by Azure; choose another, e.g. "azureuser"`)];
  }
  return [];
};

const checkWorkerUser: Check = (args) => {
  const v = args.workerUser;
  if (!known(v)) return [];
  return typeof v === "string" && WORKER_USER_PATTERN.test(v)
    ? []
    : [
        problem(
          "workerUser",
          `must be a Linux user name (lower case, digits, "_" or "-", at most 32 characters, not starting with a digit), e.g. "hpcworker" (got ${show(v)})`,
        ),
      ];
};

const checkTimeout: Check = (args) => {
  const v = args.timeoutSeconds;
  if (!known(v)) return [];
  return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= MAX_TIMEOUT_SECONDS
    ? []
    : [
        problem(
          "timeoutSeconds",
          `must be an integer number of seconds from 1 to ${MAX_TIMEOUT_SECONDS} (got ${show(v)})`,
        ),
      ];
};

const url =
  (property: "imdsUrl" | "armUrl"): Check =>
  (args) => {
    const v = args[property];
    if (!known(v)) return [];
    let parsed: URL | undefined;
    try {
      parsed = typeof v === "string" ? new URL(v) : undefined;
    } catch {
      parsed = undefined;
    }
    if (
      !parsed ||
      !/^https?:$/.test(parsed.protocol) ||
      parsed.username ||
      parsed.password ||
      parsed.search ||
      parsed.hash
    ) {
      return [
        problem(
          property,
          `must be an http:// or https:// URL without credentials, query or fragment, e.g. "http://169.254.169.254" (got ${show(v)})`,
        ),
      ];
    }
    return [];
  };

const checkHealthPort: Check = (args) => {
  const v = args.healthPort;
  if (!known(v)) return [];
  return typeof v === "number" && Number.isInteger(v) && v >= MIN_HEALTH_PORT && v <= MAX_HEALTH_PORT
    ? []
    : [
        problem(
          "healthPort",
          `must be an integer from ${MIN_HEALTH_PORT} to ${MAX_HEALTH_PORT}: unprivileged, and below the ports Linux hands out for outgoing connections (got ${show(v)})`,
        ),
      ];
};

/** The extension's gracePeriod (timeout + boot allowance + settle time) has a ceiling of 14,400 s. */
const checkHealthGrace: Check = (args) => {
  const v = args.timeoutSeconds;
  if (args.healthExtension === false || args.healthExtension === NOT_YET_KNOWN || !known(v)) return [];
  if (typeof v !== "number" || v <= MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION) return [];
  return [
    problem(
      "timeoutSeconds",
      `must be at most ${MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION} with the health extension on (got ${show(v)}): its gracePeriod, ` +
        `timeoutSeconds + ${HEALTH_BOOT_ALLOWANCE_SECONDS} s to boot + ${healthProbeSettleSeconds()} s of probes, cannot exceed ${MAX_HEALTH_GRACE_PERIOD_SECONDS} s; ` +
        "lower timeoutSeconds, or set healthExtension: false",
    ),
  ];
};

const checkAutomaticRepairs: Check = (args) => {
  const v = args.automaticRepairs as Record<string, unknown> | undefined;
  if (!known(v)) return [];
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return [problem("automaticRepairs", `must be an object { enabled, gracePeriod, action } (got ${show(v)})`)];
  }
  const out: InputPropertyErrorDetails[] = [];
  if (known(v.enabled) && typeof v.enabled !== "boolean") {
    out.push(problem("automaticRepairs.enabled", `must be true or false (got ${show(v.enabled)})`));
  }
  const grace = v.gracePeriod;
  if (known(grace)) {
    const minutes = typeof grace === "string" ? isoDurationMinutes(grace) : undefined;
    if (minutes === undefined || minutes < MIN_REPAIR_GRACE_MINUTES || minutes > MAX_REPAIR_GRACE_MINUTES) {
      out.push(
        problem(
          "automaticRepairs.gracePeriod",
          `must be an ISO 8601 duration from PT${MIN_REPAIR_GRACE_MINUTES}M to PT${MAX_REPAIR_GRACE_MINUTES}M, e.g. "PT30M" or "PT1H" (got ${show(grace)})`,
        ),
      );
    }
  }
  const action = v.action;
  if (known(action) && !Object.values(RepairAction).includes(action as RepairAction)) {
    out.push(
      problem("automaticRepairs.action", `must be ${enumChoice("RepairAction", RepairAction)} (got ${show(action)})`),
    );
  }
  const enabled = v.enabled === NOT_YET_KNOWN ? undefined : (v.enabled ?? DEFAULT_AUTOMATIC_REPAIRS_ENABLED);
  if (enabled === true && args.healthExtension === false) {
    out.push(
      problem(
        "automaticRepairs",
        "needs a health source, and healthExtension is false (Azure refuses repairs without one): set healthExtension: true, or automaticRepairs.enabled: false",
      ),
    );
  }
  return out;
};

const checkVmSize: Check = (args) => {
  const v = args.vmSize;
  if (!known(v)) return [];
  return typeof v === "string" && /^[A-Za-z]+_[A-Za-z0-9_-]+$/.test(v)
    ? []
    : [problem("vmSize", `must be an Azure VM size name such as "Standard_D2s_v5" (got ${show(v)})`)];
};

const checkImage: Check = (args) => {
  const v = args.image as Record<string, unknown> | undefined;
  if (!known(v)) return [];
  if (typeof v !== "object" || v === null) return [problem("image", `must be an object (got ${show(v)})`)];
  const marketplace = ["publisher", "offer", "sku", "version"].filter((k) => v[k] !== undefined);
  if (v.id !== undefined && marketplace.length > 0) {
    return [problem("image", "must set either id, or publisher/offer/sku/version, not both (Azure rejects the mix)")];
  }
  if (v.id === undefined && marketplace.length !== 4) {
    return [
      problem(
        "image",
        "must set publisher, offer, sku and version (e.g. Canonical, ubuntu-24_04-lts, server, latest), or id",
      ),
    ];
  }
  return [];
};

const checkTags: Check = (args) => {
  const v = args.tags as Record<string, unknown> | undefined;
  if (!known(v) || typeof v !== "object" || v === null) return [];
  const out: InputPropertyErrorDetails[] = [];
  const names = Object.keys(v);
  if (names.length > MAX_TAGS) out.push(problem("tags", `has ${names.length} tags; Azure allows at most ${MAX_TAGS}`));
  for (const name of names) {
    if (name.length > MAX_TAG_NAME_LENGTH || /[<>%&\\?/]/.test(name)) {
      out.push(
        problem(
          `tags.${name}`,
          `is not a valid tag name: at most ${MAX_TAG_NAME_LENGTH} characters and none of < > % & \\ ? /`,
        ),
      );
    }
    const value = v[name];
    if (typeof value === "string" && value.length > MAX_TAG_VALUE_LENGTH) {
      out.push(
        problem(`tags.${name}`, `value is ${value.length} characters; Azure allows at most ${MAX_TAG_VALUE_LENGTH}`),
      );
    }
  }
  return out;
};

const CHECKS: Check[] = [
  requireKnownOrOutput("resourceGroupName", "pass the resource group's name, e.g. the name output of a ResourceGroup"),
  nonEmptyString("resourceGroupName", "pass the resource group's name, e.g. the name output of a ResourceGroup"),
  requireKnownOrOutput("subnetId", "pass the subnet's resource id, e.g. the id output of a Subnet resource"),
  checkSubnetId,
  requireKnownOrOutput("sshPublicKey", "set it to an ssh-ed25519 or ssh-rsa (≥ 2048-bit) public key line"),
  checkSshKey,
  requireKnownOrOutput(
    "workerCommand",
    'set it to the /bin/sh command line that runs the worker, e.g. "/usr/local/bin/worker --queue jobs"',
  ),
  checkWorkerCommand,
  requireKnownOrOutput("delivery", `set it to ${enumChoice("DeliveryMode", DeliveryMode)}`),
  oneOf("delivery", DeliveryMode, "DeliveryMode"),
  requireKnownOrOutput("capacity", `set it to the number of VMs, an integer from 0 to ${MAX_UNIFORM_CAPACITY}`),
  checkCapacity,
  optionalBoolean("overprovision"),
  optionalBoolean("doNotRunExtensionsOnOverprovisionedVMs"),
  checkExtensionHold,
  optionalBoolean("singlePlacementGroup"),
  optionalBoolean("installNodejs"),
  nonEmptyString("location", 'set an Azure region such as "westeurope", or leave it unset for the resource group\'s'),
  checkVmSize,
  checkImage,
  checkAdminUsername,
  checkWorkerUser,
  oneOf("workerKind", WorkerKind, "WorkerKind"),
  checkTimeout,
  url("imdsUrl"),
  url("armUrl"),
  checkTags,
  spotProblems,
  optionalBoolean("healthExtension"),
  checkHealthPort,
  checkHealthGrace,
  checkAutomaticRepairs,
];

/** Every problem with the plain arguments; empty when they are fine. The custom-data size is
 *  checked by the component once these pass, since it needs the rendered document. */
export function validateWorkerScaleSetArgs(args: Unknowable<PlainArgs>): InputPropertyErrorDetails[] {
  return CHECKS.flatMap((check) => check(args));
}

/** The checks that concern renderCustomData's own options (the same names as the component's). */
const CUSTOM_DATA_CHECKS: Check[] = [
  requireKnownOrOutput(
    "workerCommand",
    'set it to the /bin/sh command line that runs the worker, e.g. "/usr/local/bin/worker --queue jobs"',
  ),
  checkWorkerCommand,
  requireKnownOrOutput("delivery", `set it to ${enumChoice("DeliveryMode", DeliveryMode)}`),
  oneOf("delivery", DeliveryMode, "DeliveryMode"),
  optionalBoolean("overprovision"),
  optionalBoolean("installNodejs"),
  checkWorkerUser,
  oneOf("workerKind", WorkerKind, "WorkerKind"),
  checkTimeout,
  // Alone, spotProblems checks drainSeconds' own range: the rest needs the scale set's arguments.
  (o) => spotProblems({ drainSeconds: o.drainSeconds }),
  url("imdsUrl"),
  url("armUrl"),
  checkHealthPort,
];

export function validateCustomDataOptions(options: Unknowable<PlainArgs>): InputPropertyErrorDetails[] {
  return CUSTOM_DATA_CHECKS.flatMap((check) => check(options));
}
