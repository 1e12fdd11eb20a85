/**
 * The policy pack's happy stack for its specs: a WorkerScaleSet's scale set and Reader assignment,
 * written out literally, as a `Model` a test changes one field of; the rules run on it through
 * policy/evaluate.ts, which builds the analyzer's arguments as @pulumi/policy does.
 */
import * as assert from "assert";
import * as zlib from "zlib";
import * as YAML from "yaml";
import {
  KEPT_FILE_PATH,
  LAUNCHER_PATH,
  READER_ROLE_DEFINITION_GUID,
  WAITER_PATH,
  WORKER_COMMAND_PATH,
  WORKER_UNIT,
} from "../components/defaults";
import { PolicyConfigInput, ResourceSnapshot, Violation, evaluatePolicies } from "../policy/evaluate";
import { policies } from "../policy/policies";
import { proxyInternals } from "../policy/unknowns";

export const SUB = "00000000-0000-0000-0000-000000000001";
export const RG_ID = `/subscriptions/${SUB}/resourceGroups/hpc-test-rg`;
export const VMSS_ID = `${RG_ID}/providers/Microsoft.Compute/virtualMachineScaleSets/workers-vmss`;
const PRINCIPAL = "11111111-2222-3333-4444-000000000001";
export const READER_ID = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_DEFINITION_GUID}`;
const UNIT_PATH = `/etc/systemd/system/${WORKER_UNIT}`;
/** What the engine puts in place of a string it cannot know during a preview. */
export const UNKNOWN_STRING = proxyInternals.unknownStringValue as string;

const URN = {
  stack: "urn:pulumi:test::hpc-workers::pulumi:pulumi:Stack::hpc-workers-test",
  rg: "urn:pulumi:test::hpc-workers::azure-native:resources:ResourceGroup::hpc-test-rg",
  component: "urn:pulumi:test::hpc-workers::hpc-workers:index:WorkerScaleSet::workers",
  vmss: "urn:pulumi:test::hpc-workers::hpc-workers:index:WorkerScaleSet$azure-native:compute:VirtualMachineScaleSet::workers-vmss",
  reader:
    "urn:pulumi:test::hpc-workers::hpc-workers:index:WorkerScaleSet$azure-native:authorization:RoleAssignment::workers-reader",
};

export const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");
export const gzb64 = (text: string) => zlib.gzipSync(Buffer.from(text)).toString("base64");

export const WORKER_COMMAND = "/usr/local/bin/worker --queue jobs";

/** A cloud-init document shaped like renderCustomData's: waiter, launcher, worker command and unit. */
export function cloudInit(
  opts: { waiter?: boolean; extraRuncmd?: (string | string[])[]; extraFiles?: object[]; filler?: string } = {},
): string {
  const files: object[] = [];
  if (opts.waiter !== false) {
    files.push({
      path: WAITER_PATH,
      content: gzb64("/* waiter bundle */ process.exit(0);"),
      encoding: "gz+b64",
      permissions: "0644",
    });
    files.push({
      path: LAUNCHER_PATH,
      content: `#!/bin/sh\nnode ${WAITER_PATH} --kept-file ${KEPT_FILE_PATH} || exit $?\nexec /bin/sh -c "$(cat /etc/hpc-workers/worker-command)"\n`,
      permissions: "0755",
    });
    files.push({ path: WORKER_COMMAND_PATH, content: b64(WORKER_COMMAND), encoding: "b64", permissions: "0644" });
    files.push({ path: UNIT_PATH, content: `[Service]\nType=exec\nExecStart=${LAUNCHER_PATH}\n`, permissions: "0644" });
  }
  files.push(...(opts.extraFiles ?? []));
  const doc: Record<string, unknown> = { packages: ["nodejs"], write_files: files };
  doc.runcmd = [["systemctl", "enable", "--now", "--no-block", WORKER_UNIT], ...(opts.extraRuncmd ?? [])];
  return `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}${opts.filler ?? ""}`;
}

/** The kept proof as the platform runs it on kept VMs only: this VM's IMDS vmId into the kept file. */
export const KEPT_PROOF = `mkdir -p /var/lib/hpc-workers && curl -sf -H Metadata:true 'http://169.254.169.254/metadata/instance/compute/vmId?api-version=2021-02-01&format=text' > ${KEPT_FILE_PATH}`;
const CSE_VIA_UNIT = `${KEPT_PROOF} && systemd-run --no-block --collect --property=After=cloud-final.service /bin/systemctl start --no-block ${WORKER_UNIT}`;

export interface Model {
  vmss: Record<string, any>;
  /** The scale set's outputs on top of its inputs (the identity's principalId, the id). */
  vmssOutputs: Record<string, any>;
  reader?: Record<string, any>;
  readerPropertyDependencies: Record<string, string[]>;
}

/** How the happy stack starts the worker: the launcher's unit enabled by custom data, or by the Custom Script Extension. */
export type Delivery = "systemd" | "customScript";

export function happyModel(delivery: Delivery = "systemd"): Model {
  return {
    vmss: {
      resourceGroupName: "hpc-test-rg",
      orchestrationMode: "Uniform",
      identity: { type: "SystemAssigned" },
      sku: { name: "Standard_D2s_v5", tier: "Standard", capacity: 2 },
      overprovision: true,
      doNotRunExtensionsOnOverprovisionedVMs: true,
      upgradePolicy: { mode: "Manual" },
      virtualMachineProfile: {
        osProfile: {
          computerNamePrefix: "workers",
          adminUsername: "azureuser",
          customData: b64(cloudInit()),
          linuxConfiguration: {
            disablePasswordAuthentication: true,
            ssh: {
              publicKeys: [
                {
                  path: "/home/azureuser/.ssh/authorized_keys",
                  keyData: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG test",
                },
              ],
            },
          },
        },
        extensionProfile: {
          extensions: [
            {
              name: delivery === "customScript" ? "hpc-worker-start" : "hpc-worker-kept",
              publisher: "Microsoft.Azure.Extensions",
              type: "CustomScript",
              typeHandlerVersion: "2.1",
              settings: { commandToExecute: delivery === "customScript" ? CSE_VIA_UNIT : KEPT_PROOF },
            },
          ],
        },
      },
    },
    vmssOutputs: { id: VMSS_ID, identity: { type: "SystemAssigned", principalId: PRINCIPAL } },
    reader: { principalId: PRINCIPAL, principalType: "ServicePrincipal", roleDefinitionId: READER_ID, scope: RG_ID },
    readerPropertyDependencies: { principalId: [URN.vmss], scope: [URN.rg] },
  };
}

/** The stack's resources as the engine hands them to the analyzer: stack, resource group, component, scale set, Reader. */
export function snapshots(m: Model): ResourceSnapshot[] {
  const vmssOutputs = {
    ...m.vmss,
    ...m.vmssOutputs,
    identity: m.vmss.identity ? { ...m.vmss.identity, ...m.vmssOutputs.identity } : undefined,
  };
  const out: ResourceSnapshot[] = [
    { type: "pulumi:pulumi:Stack", name: "hpc-workers-test", urn: URN.stack, inputs: {}, outputs: {} },
    {
      type: "azure-native:resources:ResourceGroup",
      name: "hpc-test-rg",
      urn: URN.rg,
      parent: URN.stack,
      inputs: { location: "westeurope" },
      outputs: { id: RG_ID },
    },
    {
      type: "hpc-workers:index:WorkerScaleSet",
      name: "workers",
      urn: URN.component,
      parent: URN.stack,
      inputs: {},
      outputs: {},
    },
    {
      type: "azure-native:compute:VirtualMachineScaleSet",
      name: "workers-vmss",
      urn: URN.vmss,
      parent: URN.component,
      inputs: m.vmss,
      outputs: vmssOutputs,
      dependencies: [URN.rg],
    },
  ];
  if (m.reader) {
    out.push({
      type: "azure-native:authorization:RoleAssignment",
      name: "workers-reader",
      urn: URN.reader,
      parent: URN.component,
      inputs: m.reader,
      dependencies: [URN.vmss, URN.rg],
      propertyDependencies: m.readerPropertyDependencies,
    });
  }
  return out;
}

/** Every policy of the pack on the happy stack after `change`. */
export async function evaluate(
  change: (m: Model) => void = () => {},
  config?: PolicyConfigInput,
  delivery?: Delivery,
): Promise<Violation[]> {
  const m = happyModel(delivery);
  change(m);
  return evaluatePolicies(policies, snapshots(m), { config });
}

export const names = (vs: Violation[]) => vs.map((v) => v.policyName);

/** What the happy stack with one changed field breaks: [what changed, the one policy it breaks, the change, its delivery]. */
export type OneViolationCase = [string, string, (m: Model) => void, Delivery?];

const ADVISORY_POLICIES = [
  "custom-data-soft-budget",
  "automatic-repairs-need-health-source",
  "health-probe-sees-worker",
];

/** Asserts that `change` breaks exactly `policy`, at the level the pack gives it. */
export async function assertOnlyViolation(policy: string, change: (m: Model) => void, delivery?: Delivery) {
  const vs = await evaluate(change, undefined, delivery);
  assert.deepStrictEqual(names(vs), [policy], vs.map((v) => v.message).join("\n"));
  const expectedLevel = ADVISORY_POLICIES.includes(policy) ? "advisory" : "mandatory";
  assert.strictEqual(vs[0].enforcementLevel, expectedLevel);
}
