/**
 * Which instances of a scale set have a running worker: "Virtual Machine Scale Set VMs - List"
 * with `$expand=instanceView`, read through Azure's own SDK (@azure/arm-compute), paging by
 * nextLink as the SDK does. An instance is ready when its `vmHealth` (what the Application
 * Health extension reports, https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-instance-repairs:
 * "The application health status is provided under the property vmHealth") is
 * `HealthState/healthy`. No vmHealth (no health source yet, the VM not on the latest model, or an
 * overprovisioned extra that runs no extension) is not ready.
 */
import { ComputeManagementClient } from "@azure/arm-compute";
import type { VirtualMachineScaleSetVM } from "@azure/arm-compute";
import type { TokenCredential } from "@azure/identity";

/** The vmHealth code of a worker the platform sees as running. */
export const READY_HEALTH_CODE = "HealthState/healthy";

/** Azure Resource Manager in the public cloud, and the token scope for it. */
export const PUBLIC_ARM_ENDPOINT = "https://management.azure.com";

export interface WorkerRow {
  instanceId: string;
  name: string;
  provisioningState: string;
  /** vmHealth.status.code, or undefined when the instance view has none. */
  health?: string;
  ready: boolean;
}

/** Whether a plain-http endpoint is this machine (a local fake): the only place a token may travel unencrypted. */
function isLoopbackHttp(url: URL): boolean {
  return url.protocol === "http:" && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
}

/**
 * A Compute client for `endpoint` (default the public cloud's ARM), its token scoped to that
 * endpoint. A plain-http loopback endpoint (a local fake ARM) gets its bearer token through a
 * policy of our own, because the SDK's refuses any non-https URL; any other http URL is refused.
 */
export function computeClient(
  credential: TokenCredential,
  subscriptionId: string,
  endpoint = PUBLIC_ARM_ENDPOINT,
): ComputeManagementClient {
  const url = new URL(endpoint);
  const origin = url.origin;
  const scope = `${origin}/.default`;
  if (url.protocol !== "https:" && !isLoopbackHttp(url)) {
    throw new Error(`--arm-endpoint must be https:// (got "${endpoint}"); plain http is only for a fake on 127.0.0.1`);
  }
  const client = new ComputeManagementClient(credential, subscriptionId, {
    endpoint: origin,
    credentials: { scopes: [scope] },
    allowInsecureConnection: isLoopbackHttp(url),
  });
  if (isLoopbackHttp(url)) {
    client.pipeline.removePolicy({ name: "bearerTokenAuthenticationPolicy" });
    client.pipeline.addPolicy({
      name: "loopbackBearerTokenPolicy",
      async sendRequest(request, next) {
        const token = await credential.getToken(scope);
        if (!token) throw new Error(`no token for ${scope}`);
        request.headers.set("authorization", `Bearer ${token.token}`);
        return next(request);
      },
    });
  }
  return client;
}

export function workerRow(vm: VirtualMachineScaleSetVM): WorkerRow {
  const health = vm.instanceView?.vmHealth?.status?.code;
  return {
    instanceId: vm.instanceId ?? "",
    name: vm.name ?? "",
    provisioningState: vm.provisioningState ?? "",
    health,
    ready: (health ?? "").toLowerCase() === READY_HEALTH_CODE.toLowerCase(),
  };
}

/** Every instance of the scale set, in ARM's order, with its readiness. */
export async function listWorkers(
  client: ComputeManagementClient,
  resourceGroup: string,
  scaleSet: string,
): Promise<WorkerRow[]> {
  const rows: WorkerRow[] = [];
  for await (const vm of client.virtualMachineScaleSetVMs.list(resourceGroup, scaleSet, { expand: "instanceView" })) {
    rows.push(workerRow(vm));
  }
  return rows;
}
