/**
 * The hpc-workers program: a resource group, a private network whose only way out is a
 * NAT gateway (the waiter must reach Azure Resource Manager, and default outbound access
 * is retired for new networks), and one WorkerScaleSet. Run once per environment.
 */
import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import { DEFAULT_MAX_PRICE, DeliveryMode, Priority, RepairAction, WorkerKind, WorkerScaleSet } from "./components";

const config = new pulumi.Config();
const location = config.require("location");
const prefix = `hpc-${pulumi.getStack()}`;

const resourceGroup = new resources.ResourceGroup(`${prefix}-rg`, { location });

const natIp = new network.PublicIPAddress(`${prefix}-nat-ip`, {
  resourceGroupName: resourceGroup.name,
  location,
  sku: { name: network.PublicIPAddressSkuName.Standard },
  publicIPAllocationMethod: network.IPAllocationMethod.Static,
});

const natGateway = new network.NatGateway(`${prefix}-nat`, {
  resourceGroupName: resourceGroup.name,
  location,
  sku: { name: network.NatGatewaySkuName.Standard },
  publicIpAddresses: [{ id: natIp.id }],
});

const vnet = new network.VirtualNetwork(`${prefix}-vnet`, {
  resourceGroupName: resourceGroup.name,
  location,
  addressSpace: { addressPrefixes: [config.require("vnetAddressSpace")] },
});

const subnet = new network.Subnet(`${prefix}-workers`, {
  resourceGroupName: resourceGroup.name,
  virtualNetworkName: vnet.name,
  addressPrefix: config.require("subnetPrefix"),
  natGateway: { id: natGateway.id },
  // Outbound goes through the NAT gateway only.
  defaultOutboundAccess: false,
});

const priority = config.get<Priority>("priority");
// A string in Pulumi.yaml (config types have no decimal number). Its default, -1, matters only with Spot;
// any other price goes to the component, which refuses it without Spot.
const configuredMaxPrice = config.getNumber("maxPrice");
const maxPrice =
  priority === Priority.Spot || configuredMaxPrice !== DEFAULT_MAX_PRICE ? configuredMaxPrice : undefined;

const workers = new WorkerScaleSet(`${prefix}-workers`, {
  resourceGroupName: resourceGroup.name,
  location,
  subnetId: subnet.id,
  sshPublicKey: config.require("sshPublicKey"),
  workerCommand: config.require("workerCommand"),
  delivery: config.require<DeliveryMode>("delivery"),
  capacity: config.requireNumber("capacity"),
  overprovision: config.getBoolean("overprovision"),
  doNotRunExtensionsOnOverprovisionedVMs: config.getBoolean("doNotRunExtensionsOnOverprovisionedVMs"),
  vmSize: config.get("vmSize"),
  adminUsername: config.get("adminUsername"),
  workerUser: config.get("workerUser"),
  workerKind: config.get<WorkerKind>("workerKind"),
  installNodejs: config.getBoolean("installNodejs"),
  timeoutSeconds: config.getNumber("timeoutSeconds"),
  priority,
  maxPrice,
  terminateNotification: config.get("terminateNotification") || undefined,
  drainSeconds: config.getNumber("drainSeconds"),
  healthExtension: config.getBoolean("healthExtension"),
  healthPort: config.getNumber("healthPort"),
  automaticRepairs: config.getBoolean("automaticRepairs")
    ? {
        gracePeriod: config.get("automaticRepairsGracePeriod"),
        action: config.get<RepairAction>("automaticRepairsAction"),
      }
    : undefined,
});

export const resourceGroupName = resourceGroup.name;
export const scaleSetId = workers.scaleSetId;
export const scaleSetName = workers.scaleSetName;
export const principalId = workers.principalId;
