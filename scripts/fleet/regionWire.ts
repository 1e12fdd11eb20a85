/**
 * What the simulated region (./region.ts) says on the wire: the fleet's names and ids, and the
 * bodies of IMDS and ARM answers in the shapes of testkit/fake-azure's fixtures, serialised once
 * where a large fleet asks for the same answer again and again.
 */
import type { HttpResult } from "../../agent/src/core/types";
import { jsonAnswer } from "../../testkit/fake-azure/wire";
import type { VmTimeline } from "./platform";

export const IMDS_URL = "http://169.254.169.254";
export const ARM_URL = "https://management.azure.com";
export const SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const RESOURCE_GROUP = "rg-hpc";
export const scaleSetId = (j: number): string =>
  `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Compute/virtualMachineScaleSets/workers-${j}`;
export const vmResourceId = (vm: VmTimeline): string => `${scaleSetId(vm.scaleSet)}/virtualMachines/${vm.instance}`;
/** The instance's vmId (IMDS compute/vmId, and what the extension writes to the kept file). */
export const vmUuid = (index: number): string => `00000000-0000-0000-0000-${String(index).padStart(12, "0")}`;

export function response(status: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { kind: "response", ...jsonAnswer(status, body, headers) };
}

/** Bodies a large fleet asks for again and again (its VM in a state, its 403), serialised once. */
const bodies = new Map<string, HttpResult>();
export function cached(status: number, key: string, body: () => unknown, headers: Record<string, string>): HttpResult {
  let base = bodies.get(key);
  if (!base) {
    base = response(status, body());
    if (bodies.size > 100000) bodies.clear();
    bodies.set(key, base);
  }
  return withHeaders(base, headers);
}

export function withHeaders(res: HttpResult, headers: Record<string, string>): HttpResult {
  return res.kind === "response" ? { ...res, headers: { ...res.headers, ...headers } } : res;
}

/** The IMDS instance document, trimmed to what a waiter could use (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service). */
export function instanceMetadata(vm: VmTimeline): Record<string, unknown> {
  return {
    compute: {
      azEnvironment: "AzurePublicCloud",
      location: "westeurope",
      name: `workers-${vm.scaleSet}_${vm.instance}`,
      resourceGroupName: RESOURCE_GROUP,
      resourceId: vmResourceId(vm),
      subscriptionId: SUBSCRIPTION_ID,
      vmId: vmUuid(vm.index),
      vmScaleSetName: `workers-${vm.scaleSet}`,
    },
    network: { interface: [] },
  };
}

/** The fields of a Uniform instance the waiter reads, in the shape of the spec's VirtualMachineScaleSetVM_Get example. */
export function vmBody(vm: VmTimeline, state: string): Record<string, unknown> {
  return {
    name: `workers-${vm.scaleSet}_${vm.instance}`,
    id: vmResourceId(vm),
    type: "Microsoft.Compute/virtualMachines",
    instanceId: String(vm.instance),
    location: "westeurope",
    properties: { latestModelApplied: true, provisioningState: state, vmId: vmUuid(vm.index) },
  };
}

export function scaleSetBody(j: number, state: string): Record<string, unknown> {
  return {
    name: `workers-${j}`,
    id: scaleSetId(j),
    type: "Microsoft.Compute/virtualMachineScaleSets",
    location: "westeurope",
    properties: { overprovision: true, orchestrationMode: "Uniform", provisioningState: state },
  };
}
