/**
 * The arguments of WorkerScaleSet. Each one is an input of the multi-language package too, so
 * its type must be inferable (no unions but `?`, no functions) and its JSDoc plain text: the
 * comment becomes the input's description in every language's SDK. State a default by value
 * in the text; tags such as `@default` stay TypeScript-only. test/provider.spec.ts holds one
 * row per argument and checks both.
 */
import * as pulumi from "@pulumi/pulumi";
import { DeliveryMode, WorkerKind } from "./delivery";
import { Priority } from "./spot";
import { RepairAction } from "./health";

/** A marketplace image (publisher, offer, sku and version), or a custom or gallery image (id). */
export interface ImageReference {
  /** Marketplace image publisher, e.g. Canonical. */
  publisher?: pulumi.Input<string>;
  /** Marketplace image offer, e.g. ubuntu-24_04-lts. */
  offer?: pulumi.Input<string>;
  /** Marketplace image SKU, e.g. server. */
  sku?: pulumi.Input<string>;
  /** Marketplace image version, e.g. latest. */
  version?: pulumi.Input<string>;
  /** Resource id of a custom or Azure Compute Gallery image, set instead of the four marketplace fields. */
  id?: pulumi.Input<string>;
}

/** Automatic instance repairs: Azure repairs a VM the Application Health extension reports Unhealthy or Unknown. */
export interface AutomaticRepairs {
  /**
   * Turn automatic repairs on; false keeps the other settings but turns repairs off. Default: true.
   * @default DEFAULT_AUTOMATIC_REPAIRS_ENABLED
   */
  enabled?: pulumi.Input<boolean>;
  /**
   * How long repairs leave a VM alone after a state change (its creation, a repair), as an ISO 8601 duration from PT10M to PT90M. Default: PT10M.
   * @default DEFAULT_REPAIR_GRACE_PERIOD
   */
  gracePeriod?: pulumi.Input<string>;
  /**
   * What a repair does: Replace, Reimage or Restart the VM (the RepairAction members). Default: Replace.
   * @default DEFAULT_REPAIR_ACTION
   */
  action?: pulumi.Input<RepairAction>;
}

export interface WorkerScaleSetArgs {
  /** Name of the resource group of the scale set; the Reader role is granted on this group only. */
  resourceGroupName: pulumi.Input<string>;
  /** Resource id of the subnet for the VMs. It needs outbound access to Azure Resource Manager, e.g. through a NAT gateway. */
  subnetId: pulumi.Input<string>;
  /** One-line OpenSSH public key of the admin user: ssh-ed25519, or ssh-rsa of at least 2048 bits. Password login is always off. */
  sshPublicKey: pulumi.Input<string>;
  /** The worker, as a /bin/sh command line run by the worker user. Any bytes but NUL reach `/bin/sh -c` unchanged. */
  workerCommand: pulumi.Input<string>;
  /** What starts the worker on each VM: systemd, cloudInit or customScript (the DeliveryMode members). */
  delivery: pulumi.Input<DeliveryMode>;
  /** Number of VMs: an integer from 0 to 1000, or to 100 when singlePlacementGroup is true. */
  capacity: pulumi.Input<number>;
  /**
   * Let Azure create extra VMs and delete them once `capacity` VMs succeeded. One Custom Script Extension, which runs only on
   * the VMs the scale set keeps, then writes the kept file the waiter needs, so the worker stays off the extras. Default: true.
   * @default DEFAULT_OVERPROVISION
   */
  overprovision?: pulumi.Input<boolean>;
  /**
   * The extras of an overprovisioned scale-out never run extensions; must be true when `overprovision` is, or the kept proof
   * would run on the extras. Default: true.
   * @default DEFAULT_DO_NOT_RUN_EXTENSIONS_ON_OVERPROVISIONED_VMS
   */
  doNotRunExtensionsOnOverprovisionedVMs?: pulumi.Input<boolean>;
  /**
   * Keep every VM in one placement group, as InfiniBand/RDMA jobs need; capacity is then at most 100. Default: false.
   * @default DEFAULT_SINGLE_PLACEMENT_GROUP
   */
  singlePlacementGroup?: pulumi.Input<boolean>;
  /** Azure region of the scale set. Default: the resource group's location. */
  location?: pulumi.Input<string>;
  /**
   * Azure VM size of the workers. Default: Standard_D2s_v5.
   * @default DEFAULT_VM_SIZE
   */
  vmSize?: pulumi.Input<string>;
  /**
   * OS image of the workers. Default: Canonical:ubuntu-24_04-lts:server:latest (Ubuntu 24.04 LTS).
   * @default DEFAULT_IMAGE
   */
  image?: pulumi.Input<ImageReference>;
  /**
   * ssh login user; Azure reserves names such as root and admin. Default: azureuser.
   * @default DEFAULT_ADMIN_USERNAME
   */
  adminUsername?: pulumi.Input<string>;
  /**
   * Linux user the waiter and the worker run as; cloud-init creates it. Default: hpcworker.
   * @default DEFAULT_WORKER_USER
   */
  workerUser?: pulumi.Input<string>;
  /**
   * foreground for a command that runs until the work is done, forking for one that daemonizes and exits (the WorkerKind members). Default: foreground.
   * @default WorkerKind.Foreground
   */
  workerKind?: pulumi.Input<WorkerKind>;
  /**
   * Install the distribution's `nodejs` package at first boot; set false for images that carry Node.js 12 or later. Default: true.
   * @default DEFAULT_INSTALL_NODEJS
   */
  installNodejs?: pulumi.Input<boolean>;
  /**
   * How long the waiter waits for Succeeded before it gives up, in seconds (its `--timeout`). Default: 7200.
   * @default DEFAULT_WAITER_TIMEOUT_SECONDS
   */
  timeoutSeconds?: pulumi.Input<number>;
  /**
   * Regular VMs, or Spot VMs (the Priority members): spare capacity at up to 90% less, deleted when Azure needs it back with about 30 s of notice, which the drain watcher turns into a drain. Fixed at creation: a change replaces the scale set. Default: Regular.
   * @default Priority.Regular
   */
  priority?: pulumi.Input<Priority>;
  /**
   * With Spot only: the most to pay per VM hour in US dollars, with at most 5 decimals (e.g. 0.05); a VM is evicted when the Spot price rises above it. -1 pays up to the on-demand price and is never evicted for price. Default: -1.
   * @default DEFAULT_MAX_PRICE
   */
  maxPrice?: pulumi.Input<number>;
  /**
   * Notice before Azure deletes a VM (scale-in, instance delete, automatic repair), as an ISO 8601 duration from PT5M to PT15M; the drain watcher drains the worker and then lets the delete go ahead. Not with Spot, as Azure refuses it. Default: unset, so deletes come without notice.
   */
  terminateNotification?: pulumi.Input<string>;
  /**
   * Seconds the worker has after SIGTERM to finish or hand back its task before SIGKILL, when Azure announces an eviction, delete, reboot or redeploy of its VM; never more than the notice left, and at most 26 with Spot. Default: 25.
   * @default DEFAULT_DRAIN_SECONDS
   */
  drainSeconds?: pulumi.Input<number>;
  /** Instance Metadata Service URL for the waiter (its `--imds-url`), for tests and emulators. */
  imdsUrl?: pulumi.Input<string>;
  /** Azure Resource Manager URL for the waiter (its `--arm-url`), for tests and emulators. */
  armUrl?: pulumi.Input<string>;
  /**
   * Add Azure's Application Health extension, probing each VM's health endpoint, so that rolling upgrades, repairs, the portal and vmHealth see a VM as healthy only once its worker runs. Default: true.
   * @default DEFAULT_HEALTH_EXTENSION
   */
  healthExtension?: pulumi.Input<boolean>;
  /**
   * Port of each VM's health endpoint on 127.0.0.1, from 1024 to 32767. Default: 28734.
   * @default DEFAULT_HEALTH_PORT
   */
  healthPort?: pulumi.Input<number>;
  /** Automatic instance repairs of VMs whose worker is Unhealthy or Unknown; they need healthExtension. Default: off (no repairs policy). */
  automaticRepairs?: pulumi.Input<AutomaticRepairs>;
  /** Azure tags of the scale set: at most 50. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}
