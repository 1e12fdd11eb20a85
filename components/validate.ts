/**
 * Pure validation of the component's arguments. Only plain values are checked here (an
 * Output is checked by the platform when it resolves). Every problem is collected, so the
 * user fixes them all in one round, and each reason names the property and the fix.
 */
import type { InputPropertyErrorDetails } from "@pulumi/pulumi";
import { DEFAULT_OVERPROVISION, MAX_SINGLE_PLACEMENT_GROUP_CAPACITY, MAX_UNIFORM_CAPACITY } from "./defaults";
import { DeliveryMode, WorkerKind } from "./delivery";
import { spotProblems } from "./spot";
import { checkAdminUsername, checkSshKey, checkWorkerUser } from "./validateAccess";
import {
  Check,
  PlainArgs,
  Unknowable,
  enumChoice,
  known,
  nonEmptyString,
  oneOf,
  optionalBoolean,
  problem,
  requireKnownOrOutput,
  show,
} from "./validateBase";
import { checkAutomaticRepairs, checkHealthGrace, checkHealthPort } from "./validateHealth";

export { NOT_YET_KNOWN, PlainArgs, Unknowable } from "./validateBase";
export { MAX_ADMIN_USERNAME_LENGTH, MIN_RSA_KEY_BITS, RESERVED_ADMIN_USERNAMES, sshKeyProblem } from "./validateAccess";

/** Resource tags: at most 50, names ≤ 512 and values ≤ 256 characters, names without <>%&\?/.
 *  https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations */
export const MAX_TAGS = 50;
export const MAX_TAG_NAME_LENGTH = 512;
export const MAX_TAG_VALUE_LENGTH = 256;
/** A week; longer waits point at a stuck deployment rather than a slow one. */
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

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

// An Output (NOT_YET_KNOWN) is neither true nor false, so extensionHoldProblem leaves it to resolvedExtensionHold.
const checkExtensionHold: Check = (args) => {
  const why = extensionHoldProblem(args.overprovision, args.doNotRunExtensionsOnOverprovisionedVMs);
  return why ? [{ propertyPath: "doNotRunExtensionsOnOverprovisionedVMs", reason: why }] : [];
};

/** The extension hold once Outputs resolved: the deployment fails here when they break the kept proof. */
export function resolvedExtensionHold(name: string, overprovision: unknown, hold: boolean): boolean {
  const why = extensionHoldProblem(overprovision, hold);
  if (why) throw new Error(`WorkerScaleSet "${name}": ${why}`);
  return hold;
}

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
  if (!known(v)) return [];
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return [
      problem("tags", `must be an object of tag names to string values, e.g. { team: "render" } (got ${show(v)})`),
    ];
  }
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

/** What both the component and renderCustomData require: the worker's command line and a delivery mode. */
const COMMAND_AND_DELIVERY_CHECKS: Check[] = [
  requireKnownOrOutput(
    "workerCommand",
    'set it to the /bin/sh command line that runs the worker, e.g. "/usr/local/bin/worker --queue jobs"',
  ),
  checkWorkerCommand,
  requireKnownOrOutput("delivery", `set it to ${enumChoice("DeliveryMode", DeliveryMode)}`),
  oneOf("delivery", DeliveryMode, "DeliveryMode"),
];

const CHECKS: Check[] = [
  requireKnownOrOutput("resourceGroupName", "pass the resource group's name, e.g. the name output of a ResourceGroup"),
  nonEmptyString("resourceGroupName", "pass the resource group's name, e.g. the name output of a ResourceGroup"),
  requireKnownOrOutput("subnetId", "pass the subnet's resource id, e.g. the id output of a Subnet resource"),
  checkSubnetId,
  requireKnownOrOutput("sshPublicKey", "set it to an ssh-ed25519 or ssh-rsa (≥ 2048-bit) public key line"),
  checkSshKey,
  ...COMMAND_AND_DELIVERY_CHECKS,
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
  ...COMMAND_AND_DELIVERY_CHECKS,
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
