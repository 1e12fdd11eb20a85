/**
 * WorkerScaleSet: a Uniform VM Scale Set whose workers start only once Azure reports
 * their VM `Succeeded`. The class is thin: validate → render → declare children.
 */
import * as pulumi from "@pulumi/pulumi";
import type { InputPropertyErrorDetails } from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as compute from "@pulumi/azure-native/compute";
import { WorkerScaleSetArgumentsError } from "./argumentsError";
import { armGuid } from "./armGuid";
import { CustomDataOptions, CustomDataTooLargeError, encodeCustomData, renderCustomData } from "./customData";
import {
  DEFAULT_ADMIN_USERNAME,
  DEFAULT_DO_NOT_RUN_EXTENSIONS_ON_OVERPROVISIONED_VMS,
  DEFAULT_IMAGE,
  DEFAULT_OVERPROVISION,
  DEFAULT_SINGLE_PLACEMENT_GROUP,
  DEFAULT_UPGRADE_POLICY,
  DEFAULT_VM_SIZE,
  DEFAULT_OS_DISK_TYPE,
  MAX_CUSTOM_DATA_BYTES,
  READER_ROLE_DEFINITION_GUID,
} from "./defaults";
import { scaleSetExtensions } from "./extensions";
import { automaticRepairsPolicy } from "./health";
import { resolvedEvictionProfile } from "./spot";
import { NOT_YET_KNOWN, PlainArgs, Unknowable, resolvedExtensionHold, validateWorkerScaleSetArgs } from "./validate";
import { WorkerScaleSetArgs } from "./workerScaleSetArgs";

export const WORKER_SCALE_SET_TYPE = "hpc-workers:index:WorkerScaleSet";

const notYetKnown = (value: unknown) => pulumi.Output.isInstance(value) || value instanceof Promise;

/** The arguments with every Output/Promise replaced by NOT_YET_KNOWN (one level into objects), for the pure validator. */
function plainView(args: WorkerScaleSetArgs): Unknowable<PlainArgs> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((args ?? {}) as unknown as Record<string, unknown>)) {
    if (notYetKnown(value)) view[key] = NOT_YET_KNOWN;
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      view[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, notYetKnown(v) ? NOT_YET_KNOWN : v]));
    } else view[key] = value;
  }
  return view;
}

/** Azure's custom-data limit, checked on the rendered document when every input to it is plain. */
function customDataSizeProblems(args: Unknowable<PlainArgs>): InputPropertyErrorDetails[] {
  const renderInputs = [
    args.delivery,
    args.workerCommand,
    args.workerUser,
    args.workerKind,
    args.overprovision,
    args.installNodejs,
    args.timeoutSeconds,
    args.drainSeconds,
    args.imdsUrl,
    args.armUrl,
    args.healthPort,
  ];
  if (renderInputs.some((v) => v === NOT_YET_KNOWN)) return [];
  try {
    encodeCustomData(renderCustomData(args as unknown as CustomDataOptions));
    return [];
  } catch (err) {
    if (!(err instanceof CustomDataTooLargeError)) throw err;
    return [
      {
        propertyPath: "workerCommand",
        reason: `workerCommand makes the custom data ${err.bytes} bytes even gzip-compressed, over Azure's limit of ${MAX_CUSTOM_DATA_BYTES} bytes; shorten it, or ship the worker as a script in the image`,
      },
    ];
  }
}

/** Host name prefix: letters, digits and "-", at most 15 characters (the tightest Azure limit). */
export function computerNamePrefix(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "")
    .replace(/^-+/, "")
    .slice(0, 15)
    .replace(/-+$/, "");
  return cleaned === "" ? "worker" : cleaned;
}

export function readerRoleDefinitionId(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_DEFINITION_GUID}`;
}

export function resourceGroupScope(subscriptionId: string, resourceGroupName: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}`;
}

/** The child resources behind the TypeScript-only getters. Not class fields: schema inference
 *  makes every field, even a private or #private one, an output of every language's SDK. */
interface Children {
  scaleSet: compute.VirtualMachineScaleSet;
  roleAssignment: authorization.RoleAssignment;
}
const childrenOf = new WeakMap<WorkerScaleSet, Children>();

/**
 * A Uniform Azure VM Scale Set of HPC workers. On each VM a waiter starts the worker command only
 * once Azure reports the VM Succeeded, so the extra VMs of an overprovisioned scale-out never run it.
 * The scale set's identity gets the Reader role on the resource group, which the waiter needs.
 */
export class WorkerScaleSet extends pulumi.ComponentResource {
  /** Azure resource id of the scale set. */
  public readonly scaleSetId: pulumi.Output<string>;
  /** Azure name of the scale set. */
  public readonly scaleSetName: pulumi.Output<string>;
  /** Principal id of the scale set's system-assigned identity, shared by all its VMs. */
  public readonly principalId: pulumi.Output<string>;
  /** The cloud-init text every VM receives (before base64), to read exactly what ships. */
  public readonly customData: pulumi.Output<string>;

  /** The scale set. TypeScript only: the multi-language package exposes scaleSetId and
   *  scaleSetName instead, so that its SDKs do not depend on azure-native. */
  get scaleSet(): compute.VirtualMachineScaleSet {
    return childrenOf.get(this)!.scaleSet;
  }

  /** The Reader role assignment of the scale set's identity. TypeScript only, as `scaleSet`. */
  get roleAssignment(): authorization.RoleAssignment {
    return childrenOf.get(this)!.roleAssignment;
  }

  constructor(name: string, args: WorkerScaleSetArgs, opts?: pulumi.ComponentResourceOptions) {
    // Before super(): a bad argument registers nothing at all.
    const view = plainView(args);
    let problems = validateWorkerScaleSetArgs(view);
    if (problems.length === 0) problems = customDataSizeProblems(view);
    if (problems.length > 0) throw new WorkerScaleSetArgumentsError(name, problems);
    super(WORKER_SCALE_SET_TYPE, name, {}, opts);

    const overprovision = pulumi.output(args.overprovision ?? DEFAULT_OVERPROVISION);
    this.customData = pulumi
      .output({
        delivery: args.delivery,
        workerCommand: args.workerCommand,
        workerUser: args.workerUser,
        workerKind: args.workerKind,
        overprovision,
        installNodejs: args.installNodejs,
        timeoutSeconds: args.timeoutSeconds,
        drainSeconds: args.drainSeconds,
        imdsUrl: args.imdsUrl,
        armUrl: args.armUrl,
        healthPort: args.healthPort,
      })
      .apply((options) => renderCustomData(options));
    const adminUsername = pulumi.output(args.adminUsername ?? DEFAULT_ADMIN_USERNAME);
    const eviction = pulumi
      .all([args.priority, args.maxPrice, args.terminateNotification, args.drainSeconds])
      .apply(([priority, maxPrice, terminateNotification, drainSeconds]) =>
        resolvedEvictionProfile(name, { priority, maxPrice, terminateNotification, drainSeconds }),
      );
    // Validation saw plain values; an Output that breaks the kept proof fails the deployment here.
    const extensionHold = pulumi
      .all([
        overprovision,
        args.doNotRunExtensionsOnOverprovisionedVMs ?? DEFAULT_DO_NOT_RUN_EXTENSIONS_ON_OVERPROVISIONED_VMS,
      ])
      .apply(([op, hold]) => resolvedExtensionHold(name, op, hold));

    const scaleSet = new compute.VirtualMachineScaleSet(
      `${name}-vmss`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        // Flexible rejects SystemAssigned identity and cannot overprovision.
        orchestrationMode: compute.OrchestrationMode.Uniform,
        identity: { type: compute.ResourceIdentityType.SystemAssigned },
        sku: { name: args.vmSize ?? DEFAULT_VM_SIZE, tier: "Standard", capacity: args.capacity },
        overprovision,
        doNotRunExtensionsOnOverprovisionedVMs: extensionHold,
        singlePlacementGroup: args.singlePlacementGroup ?? DEFAULT_SINGLE_PLACEMENT_GROUP,
        upgradePolicy: { mode: DEFAULT_UPGRADE_POLICY },
        virtualMachineProfile: {
          osProfile: {
            computerNamePrefix: computerNamePrefix(name),
            adminUsername,
            customData: this.customData.apply((text) => encodeCustomData(text).base64),
            linuxConfiguration: {
              disablePasswordAuthentication: true,
              provisionVMAgent: true,
              ssh: {
                publicKeys: [
                  { path: pulumi.interpolate`/home/${adminUsername}/.ssh/authorized_keys`, keyData: args.sshPublicKey },
                ],
              },
            },
          },
          storageProfile: {
            imageReference: args.image ?? { ...DEFAULT_IMAGE },
            osDisk: {
              createOption: "FromImage",
              caching: "ReadWrite",
              managedDisk: { storageAccountType: DEFAULT_OS_DISK_TYPE },
            },
          },
          priority: eviction.priority,
          evictionPolicy: eviction.evictionPolicy,
          billingProfile: eviction.billingProfile,
          scheduledEventsProfile: eviction.scheduledEventsProfile,
          networkProfile: {
            networkInterfaceConfigurations: [
              {
                name: `${name}-nic`,
                primary: true,
                ipConfigurations: [{ name: `${name}-ipconfig`, primary: true, subnet: { id: args.subnetId } }],
              },
            ],
          },
          extensionProfile: pulumi
            .all([
              args.delivery,
              overprovision,
              args.imdsUrl,
              args.healthExtension,
              args.healthPort,
              args.timeoutSeconds,
            ])
            .apply(([delivery, op, imdsUrl, health, healthPort, timeoutSeconds]) => {
              const extensions = scaleSetExtensions({
                delivery,
                overprovision: op,
                imdsUrl,
                healthExtension: health,
                healthPort,
                timeoutSeconds,
              });
              return extensions.length > 0 ? { extensions } : undefined;
            }),
        },
        automaticRepairsPolicy: pulumi
          .output(args.automaticRepairs)
          .apply((repairs) => (repairs ? automaticRepairsPolicy(repairs) : undefined)),
        tags: args.tags,
      },
      // Spot can be chosen only when a scale set is created ("setting the Spot flag is only supported at creation time").
      { parent: this, replaceOnChanges: ["virtualMachineProfile.priority"] },
    );
    this.scaleSetId = scaleSet.id;
    this.scaleSetName = scaleSet.name;
    this.principalId = scaleSet.identity.apply((identity) => identity?.principalId as string);

    const client = authorization.getClientConfigOutput({ parent: this });
    const scope = pulumi
      .all([client.subscriptionId, args.resourceGroupName])
      .apply(([sub, rg]) => resourceGroupScope(sub, rg));
    const roleDefinitionId = client.subscriptionId.apply(readerRoleDefinitionId);
    const roleAssignment = new authorization.RoleAssignment(
      `${name}-reader`,
      {
        // Naming the type skips the Entra lookup that fails with PrincipalNotFound right after the identity is created.
        principalId: this.principalId,
        principalType: authorization.PrincipalType.ServicePrincipal,
        roleDefinitionId,
        scope,
        // As Azure's own templates name it: guid(scope, principalId, roleDefinitionId). Two stacks
        // cannot collide, and a replaced identity gets a new assignment before the old one goes.
        roleAssignmentName: pulumi
          .all([scope, this.principalId, roleDefinitionId])
          .apply(([s, principal, role]) => armGuid(s, principal, role)),
      },
      { parent: this },
    );

    childrenOf.set(this, { scaleSet, roleAssignment });

    this.registerOutputs({
      scaleSet,
      scaleSetId: this.scaleSetId,
      scaleSetName: this.scaleSetName,
      principalId: this.principalId,
      roleAssignment,
      customData: this.customData,
    });
  }
}
