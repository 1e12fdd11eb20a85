/**
 * The two forms of a VM's ARM id that IMDS compute.resourceId returns.
 * - Uniform scale-set instance: /subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/virtualMachineScaleSets/NAME/virtualMachines/ID
 * - Flexible scale-set member (or plain VM): /subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/virtualMachines/NAME
 * ARM ids are case-insensitive, so the match is too.
 * https://learn.microsoft.com/rest/api/compute/virtual-machine-scale-set-vms/get
 * https://learn.microsoft.com/rest/api/compute/virtual-machines/get
 */
export type VmId = { kind: "uniform"; id: string; scaleSetId: string } | { kind: "flexible"; id: string };

const UNIFORM =
  /^(\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/[^/]+)\/virtualMachines\/[^/]+$/i;
const FLEXIBLE =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+$/i;

export function parseVmId(text: string): VmId | undefined {
  const id = text.trim();
  const uniform = UNIFORM.exec(id);
  if (uniform) return { kind: "uniform", id, scaleSetId: uniform[1] };
  if (FLEXIBLE.test(id)) return { kind: "flexible", id };
  return undefined;
}
