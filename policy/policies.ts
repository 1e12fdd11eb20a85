/**
 * The hpc-workers CrossGuard rules: the policy objects, their metadata and config schemas. The checks
 * live by concern (scaleSetChecks, secrets, rbac); this file only wires them to the engine.
 *
 * Kept apart from `new PolicyPack(...)` (policy/index.ts) because constructing a pack starts a gRPC
 * server that never exits, and a second one in a process calls `process.exit(1)`. Tests and the
 * offline evaluator import this module only.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { isScaleSetType, scaleSetFacts } from "./facts";
import { checkHealthProbeSeesWorker, checkRepairsHaveHealthSource } from "./healthChecks";
import { MAX_CUSTOM_DATA_BYTES, READER_ROLE_DEFINITION_GUID } from "./generated/constants";
import {
  checkAssignmentPrincipalType,
  checkAssignmentRole,
  checkAssignmentScope,
  linkRoleAssignments,
  scaleSetsMissingReader,
} from "./rbac";
import { READER_CAPABLE_ROLE_GUIDS } from "./roles";
import {
  DEFAULT_CUSTOM_DATA_SOFT_BUDGET_BYTES,
  checkCustomDataPlatformLimit,
  checkCustomDataSoftBudget,
  checkOverprovisioning,
  checkSshKeyOnly,
  checkWaiterIdentityAndOrchestration,
} from "./scaleSetChecks";
import { checkCustomDataSecrets } from "./secrets";
import { checkSpotSettings } from "./spotChecks";

export const PACK_NAME = "hpc-workers";

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

export const spotSettingsAccepted = scaleSetPolicy(
  {
    name: "spot-and-terminate-notification-accepted",
    description:
      "Spot and terminate-notification settings are ones Azure accepts: no terminate notification on Spot, no eviction policy or max price without Spot, a valid max price and notice.",
    enforcementLevel: "mandatory",
    remediationSteps:
      'Use WorkerScaleSet\'s priority, maxPrice and terminateNotification; with priority "Spot", drop scheduledEventsProfile.terminateNotificationProfile; without it, drop evictionPolicy and billingProfile.',
  },
  (props) => checkSpotSettings(props),
);

export const repairsHaveHealthSource = scaleSetPolicy(
  {
    name: "automatic-repairs-need-health-source",
    description:
      "Automatic repairs are on only with a health source: the Application Health extension or a load balancer health probe.",
    enforcementLevel: "advisory",
    remediationSteps:
      "Add the Application Health extension (WorkerScaleSet's healthExtension, on by default) or networkProfile.healthProbe, or disable automaticRepairsPolicy.",
  },
  (props) => checkRepairsHaveHealthSource(scaleSetFacts(props)),
);

export const healthProbeSeesWorker = scaleSetPolicy(
  {
    name: "health-probe-sees-worker",
    description:
      "On a scale set that runs the waiter, the Application Health extension probes the health endpoint custom data ships (Rich Health States over http, its port and path), so its state follows the worker.",
    enforcementLevel: "advisory",
    remediationSteps:
      'Probe with typeHandlerVersion "2.0", protocol "http", the endpoint\'s port and requestPath "/health" (WorkerScaleSet\'s healthExtension does).',
  },
  (props) => checkHealthProbeSeesWorker(scaleSetFacts(props)),
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
  spotSettingsAccepted,
  repairsHaveHealthSource,
  healthProbeSeesWorker,
];

export const stackPolicies: StackValidationPolicy[] = [
  readerOnly,
  scopeResourceGroupOrNarrower,
  servicePrincipalType,
  waiterHasReader,
];

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [...resourcePolicies, ...stackPolicies];
