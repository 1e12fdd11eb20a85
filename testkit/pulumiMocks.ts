/**
 * The one mock runtime, resource recorder (with each registration's parent and dependencies) and
 * unwrap() for every mocked test and for the offline preview. Mock state is global in
 * @pulumi/pulumi: call installMocks() inside before(), then construct resources, then read the
 * recorder.
 */
import * as pulumi from "@pulumi/pulumi";

export const MOCK_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const MOCK_TENANT_ID = "00000000-0000-0000-0000-0000000000aa";
export const MOCK_PRINCIPAL_PREFIX = "11111111-2222-3333-4444-";

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  id: string;
  state: Record<string, any>;
  custom: boolean;
  /** The URN the mock monitor answered with. */
  urn?: string;
  /** The graph the policy engine links resources by: the parent's URN and the dependencies' URNs. */
  parent?: string;
  dependencies: string[];
  /** Per input property, the URNs its value came from (`principalId` → the scale set). */
  propertyDependencies: Record<string, string[]>;
}

/** Records every resource the program registers, in registration order. */
export class ResourceRecorder {
  readonly resources: RecordedResource[] = [];
  readonly invokes: { token: string; args: Record<string, any> }[] = [];

  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  one(type: string): RecordedResource {
    const found = this.ofType(type);
    if (found.length !== 1) {
      throw new Error(`expected exactly one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    }
    return found[0];
  }

  byName(name: string): RecordedResource {
    const found = this.resources.find((r) => r.name === name);
    if (!found) throw new Error(`no resource named ${name}; have ${this.resources.map((r) => r.name).join(", ")}`);
    return found;
  }

  /** `{ type: count }`, for exact-count assertions. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.resources) out[r.type] = (out[r.type] ?? 0) + 1;
    return out;
  }

  clear(): void {
    this.resources.length = 0;
    this.invokes.length = 0;
  }
}

/** Deterministic fake principal id per scale set, so tests can check the wiring. */
export function mockPrincipalId(resourceName: string): string {
  let h = 0;
  for (const ch of resourceName) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return MOCK_PRINCIPAL_PREFIX + h.toString(16).padStart(12, "0").slice(-12);
}

function armId(type: string, inputs: Record<string, any>, name: string): string {
  const rg = inputs.resourceGroupName ?? "rg";
  const sub = `/subscriptions/${MOCK_SUBSCRIPTION_ID}`;
  switch (type) {
    case "azure-native:resources:ResourceGroup":
      return `${sub}/resourceGroups/${inputs.resourceGroupName ?? name}`;
    case "azure-native:compute:VirtualMachineScaleSet":
      return `${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachineScaleSets/${inputs.vmScaleSetName ?? name}`;
    case "azure-native:network:VirtualNetwork":
      return `${sub}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${inputs.virtualNetworkName ?? name}`;
    case "azure-native:network:Subnet":
      return `${sub}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/${inputs.virtualNetworkName}/subnets/${inputs.subnetName ?? name}`;
    case "azure-native:network:NatGateway":
      return `${sub}/resourceGroups/${rg}/providers/Microsoft.Network/natGateways/${inputs.natGatewayName ?? name}`;
    case "azure-native:network:PublicIPAddress":
      return `${sub}/resourceGroups/${rg}/providers/Microsoft.Network/publicIPAddresses/${inputs.publicIpAddressName ?? name}`;
    case "azure-native:authorization:RoleAssignment":
      return `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${inputs.roleAssignmentName ?? name}`;
    default:
      return `${name}-id`;
  }
}

/** What a fresh deployment would report back, enough for wiring to be checked. */
function mockState(type: string, name: string, inputs: Record<string, any>, id: string): Record<string, any> {
  const state: Record<string, any> = { ...inputs, name: inputs.name ?? lastSegment(id) };
  if (type === "azure-native:compute:VirtualMachineScaleSet" && inputs.identity) {
    state.identity = { ...inputs.identity, principalId: mockPrincipalId(name), tenantId: MOCK_TENANT_ID };
  }
  return state;
}

function lastSegment(id: string): string {
  return id.split("/").pop() ?? id;
}

/** A registration as the mock runtime and the fake engine (testkit/pulumiPlugin) both receive it. */
export interface Registration {
  type: string;
  name: string;
  inputs: Record<string, any>;
  custom: boolean;
}

/** Records a registration and returns what a fresh deployment would report back for it. */
export function registerMockResource(
  recorder: ResourceRecorder,
  reg: Registration,
): { id?: string; state: Record<string, any> } {
  const id = reg.custom ? armId(reg.type, reg.inputs, reg.name) : "";
  const state = reg.custom ? mockState(reg.type, reg.name, reg.inputs, id) : {};
  recorder.resources.push({ ...reg, id, state, ...NO_GRAPH() });
  return { id: reg.custom ? id : undefined, state };
}

/** Records an invoke and returns its mock result: getClientConfig answers for the mock subscription. */
export function callMockFunction(
  recorder: ResourceRecorder,
  token: string,
  args: Record<string, any>,
): Record<string, any> {
  recorder.invokes.push({ token, args });
  if (token === "azure-native:authorization:getClientConfig") {
    return {
      subscriptionId: MOCK_SUBSCRIPTION_ID,
      tenantId: MOCK_TENANT_ID,
      clientId: "mock-client",
      objectId: "mock-object",
    };
  }
  return args;
}

/** Installs Pulumi mocks that record into `recorder`. Call inside before(). */
export async function installMocks(
  recorder: ResourceRecorder,
  opts: { project?: string; stack?: string; preview?: boolean } = {},
): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const { id, state } = registerMockResource(recorder, {
          type: args.type,
          name: args.name,
          inputs: (args.inputs ?? {}) as Record<string, any>,
          custom: args.custom !== false,
        });
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return callMockFunction(recorder, args.token, args.inputs);
      },
    },
    opts.project ?? "hpc-workers",
    opts.stack ?? "test",
    opts.preview ?? false,
  );
  recordGraph(recorder);
}

const NO_GRAPH = () => ({ dependencies: [], propertyDependencies: {} });

/**
 * The mock monitor hands `newResource` only the type, name and inputs. The parent, the dependencies
 * and the URN are on the registration request, so each registration is read here, around the
 * MockMonitor's own method: it calls `newResource` synchronously, before its first await, so the
 * record pushed during that call is this request's.
 */
function recordGraph(recorder: ResourceRecorder): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as Record<string, (...args: any[]) => any>;
  for (const method of ["registerResource", "readResource"]) {
    const original = monitor[method].bind(monitor);
    monitor[method] = (req: any, callback: (err: unknown, resp: any) => void) => {
      const first = recorder.resources.length;
      let record: RecordedResource | undefined;
      const done = original(req, (err: unknown, resp: any) => {
        if (record && resp) record.urn = resp.getUrn();
        callback(err, resp);
      });
      record = recorder.resources[first];
      if (record) {
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap?.()?.forEach((deps: any, key: string) => {
          propertyDependencies[key] = deps.getUrnsList();
        });
        record.parent = req.getParent() || undefined;
        record.dependencies = req.getDependenciesList?.() ?? [];
        record.propertyDependencies = propertyDependencies;
      }
      return done;
    };
  }
}

/** The plain value of an Output (or a plain value), for assertions. Rejects when the Output failed. */
export function unwrap<T>(value: pulumi.Input<T> | pulumi.Output<T>): Promise<T> {
  // Output.promise() is internal but stable; unlike apply(), it rejects instead of hanging on an error.
  return (pulumi.output(value) as unknown as { promise(): Promise<T> }).promise();
}
