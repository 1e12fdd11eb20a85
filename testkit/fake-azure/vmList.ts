/**
 * The fake's "Virtual Machine Scale Set VMs - List" (GET {scaleSet}/virtualMachines): pages of
 * the scale set's instances, each with its instance view and `vmHealth` when asked
 * (`$expand=instanceView`). Shapes from the Compute REST spec 2024-11-01
 * (`VirtualMachineScaleSetVMs_List`: `"x-ms-pageable": {"nextLinkName": "nextLink"}`,
 * `VirtualMachineScaleSetVMInstanceView.vmHealth` = `{status: InstanceViewStatus}`) and the
 * examples in ./fixtures (see SOURCES.md).
 */
import { clone, fixtureBody } from "./wire";

/** The Application Health extension's states as `vmHealth.status.code` carries them. */
export type FakeVmHealth = "healthy" | "unhealthy" | "unknown" | "initializing";

export interface FakeInstance {
  instanceId: string;
  /** Default "Succeeded". */
  provisioningState?: string;
  /** Absent: no health source reports for this VM (no extension yet, or an overprovisioned extra), so no vmHealth. */
  health?: FakeVmHealth;
}

/**
 * `vmHealth.status` per state. unknown: the VM-AHE doc's sample response; unhealthy: the
 * Compute team's sample in Azure/azure-cli#15018; healthy and initializing follow the same
 * `HealthState/<state>` pattern, as public consumers compare them (see SOURCES.md): the
 * display texts of those two are assumptions.
 */
const HEALTH_STATUS: Record<FakeVmHealth, { level: string; displayStatus: string }> = {
  healthy: { level: "Info", displayStatus: "The VM is healthy" },
  unhealthy: { level: "Error", displayStatus: "The VM is reporting itself as unhealthy or is unreachable" },
  unknown: { level: "Warning", displayStatus: "The VM health is unknown" },
  initializing: { level: "Info", displayStatus: "The VM health is initializing" },
};

/** Items per page: ARM publishes no page size; small, so that paging happens in tests. */
export const DEFAULT_VM_LIST_PAGE_SIZE = 2;

const VM_BODY = fixtureBody("compute-2024-11-01__VirtualMachineScaleSetVM_Get_WithUserData.json");
const INSTANCE_VIEW = fixtureBody(
  "compute-2024-11-01__VirtualMachineScaleSetVM_Get_InstanceViewAutoPlacedOnDedicatedHostGroup.json",
);

function item(scaleSetId: string, instance: FakeInstance, expand: boolean, nowIso: string): unknown {
  const state = instance.provisioningState ?? "Succeeded";
  const body = clone(VM_BODY);
  body.id = `${scaleSetId}/virtualMachines/${instance.instanceId}`;
  body.name = `${scaleSetId.split("/").pop()}_${instance.instanceId}`;
  body.instanceId = instance.instanceId;
  body.properties.provisioningState = state;
  // userData comes only with a Get that expands it.
  delete body.properties.userData;
  if (expand) {
    const view = clone(INSTANCE_VIEW);
    view.statuses[0].code = `ProvisioningState/${state.toLowerCase()}`;
    view.statuses[0].displayStatus = `Provisioning ${state.toLowerCase()}`;
    if (instance.health) {
      view.vmHealth = {
        status: { code: `HealthState/${instance.health}`, ...HEALTH_STATUS[instance.health], time: nowIso },
      };
    }
    body.properties.instanceView = view;
  }
  return body;
}

/** One page: items [skip, skip + pageSize), and a nextLink (absolute, as ARM gives it) when more follow. */
export function vmListPage(opts: {
  scaleSetId: string;
  instances: FakeInstance[];
  query: Record<string, string>;
  baseUrl: string;
  pageSize: number;
  now: number;
}): { value: unknown[]; nextLink?: string } {
  const skip = Math.max(0, parseInt(opts.query["$skiptoken"] || "0", 10) || 0);
  const expand = (opts.query["$expand"] || "").toLowerCase() === "instanceview";
  const nowIso = new Date(opts.now).toISOString();
  const value = opts.instances.slice(skip, skip + opts.pageSize).map((i) => item(opts.scaleSetId, i, expand, nowIso));
  const page: { value: unknown[]; nextLink?: string } = { value };
  if (skip + opts.pageSize < opts.instances.length) {
    const next = new URLSearchParams();
    for (const key of Object.keys(opts.query)) if (key !== "$skiptoken") next.set(key, opts.query[key]);
    next.set("$skiptoken", String(skip + opts.pageSize));
    page.nextLink = `${opts.baseUrl}${opts.scaleSetId}/virtualMachines?${next.toString()}`;
  }
  return page;
}
