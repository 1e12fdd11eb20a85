/** The shipped program, run under mocks with Pulumi.dev.yaml's values, and its config schema. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import * as defaults from "../components/defaults";
import { DEFAULT_HEALTH_PORT, DEFAULT_REPAIR_ACTION, DEFAULT_REPAIR_GRACE_PERIOD } from "../components/health";
import { DEFAULT_WAITER_TIMEOUT_SECONDS } from "../components/waiterContract";
import { DEFAULT_DRAIN_SECONDS, Priority, WorkerKind } from "../components";
import { decodeCustomData } from "../policy/customData";
import { ProgramRun, runProgram } from "../testkit/programRun";
import { MOCK_SUBSCRIPTION_ID, mockPrincipalId } from "../testkit/pulumiMocks";
import { loadConfig } from "../testkit/stackConfig";

const ROOT = path.resolve(__dirname, "..");

describe("the program (index.ts) with the dev stack", function () {
  this.timeout(60000);
  let run: ProgramRun;
  const stack = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")).config;
  before(async () => {
    run = await runProgram(path.join(ROOT, "index.ts"), loadConfig(ROOT, "dev"), "dev");
  });

  it("creates exactly a resource group, a NAT-gatewayed network and one WorkerScaleSet", () => {
    const counts: Record<string, number> = {};
    for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    assert.deepEqual(counts, {
      "pulumi:pulumi:Stack": 1,
      "azure-native:resources:ResourceGroup": 1,
      "azure-native:network:PublicIPAddress": 1,
      "azure-native:network:NatGateway": 1,
      "azure-native:network:VirtualNetwork": 1,
      "azure-native:network:Subnet": 1,
      "hpc-workers:index:WorkerScaleSet": 1,
      "azure-native:compute:VirtualMachineScaleSet": 1,
      "azure-native:authorization:RoleAssignment": 1,
    });
  });

  it("sends the workers' subnet out through the NAT gateway only", () => {
    const subnet = run.resources.find((r) => r.type === "azure-native:network:Subnet")!;
    const nat = run.resources.find((r) => r.type === "azure-native:network:NatGateway")!;
    assert.equal(subnet.inputs.natGateway.id, nat.outputs.id);
    assert.equal(subnet.inputs.defaultOutboundAccess, false);
  });

  it("uses the dev stack's values for the scale set", () => {
    const vmss = run.resources.find((r) => r.type === "azure-native:compute:VirtualMachineScaleSet")!;
    assert.equal(vmss.inputs.location, stack["hpc-workers:location"]);
    assert.equal(vmss.inputs.sku.capacity, stack["hpc-workers:capacity"]);
    assert.equal(vmss.inputs.sku.name, stack["hpc-workers:vmSize"]);
    assert.equal(vmss.inputs.overprovision, stack["hpc-workers:overprovision"]);
    const { text } = decodeCustomData(vmss.inputs.virtualMachineProfile.osProfile.customData);
    assert.match(text, new RegExp(`delivery=${stack["hpc-workers:delivery"]}`));
  });

  it("grants Reader on its own resource group to the scale set's principal, and exports it", () => {
    const role = run.resources.find((r) => r.type === "azure-native:authorization:RoleAssignment")!;
    const rg = run.resources.find((r) => r.type === "azure-native:resources:ResourceGroup")!;
    const vmss = run.resources.find((r) => r.type === "azure-native:compute:VirtualMachineScaleSet")!;
    assert.equal(role.inputs.scope, rg.outputs.id);
    assert.equal(role.inputs.scope, `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${rg.outputs.name}`);
    assert.match(role.inputs.roleDefinitionId, new RegExp(`/roleDefinitions/${defaults.READER_ROLE_DEFINITION_GUID}$`));
    assert.equal(role.inputs.principalId, mockPrincipalId(vmss.name));
    assert.equal(run.outputs.principalId, mockPrincipalId(vmss.name));
    assert.deepEqual(Object.keys(run.outputs).sort(), [
      "principalId",
      "resourceGroupName",
      "scaleSetId",
      "scaleSetName",
    ]);
  });
});

describe("the program with a Spot stack", function () {
  this.timeout(60000);

  it("makes Spot VMs paid up to on-demand by default, and carries a max price and a drain time", async () => {
    for (const [overrides, maxPrice] of [
      [{ priority: "Spot" }, -1],
      [{ priority: "Spot", maxPrice: "0.05", drainSeconds: "20" }, 0.05],
    ] as const) {
      const run = await runProgram(path.join(ROOT, "index.ts"), loadConfig(ROOT, "dev", overrides), "dev");
      const vmss = run.resources.find((r) => r.type === "azure-native:compute:VirtualMachineScaleSet")!;
      assert.equal(vmss.inputs.virtualMachineProfile.priority, "Spot");
      assert.deepEqual(vmss.inputs.virtualMachineProfile.billingProfile, { maxPrice });
      assert.equal(vmss.inputs.virtualMachineProfile.scheduledEventsProfile, undefined);
    }
  });

  it("refuses a max price on Regular VMs instead of dropping it", async () => {
    await assert.rejects(
      runProgram(path.join(ROOT, "index.ts"), loadConfig(ROOT, "dev", { maxPrice: "0.05" }), "dev"),
      /maxPrice applies to Spot VMs only/,
    );
  });

  it("sets a terminate notification on Regular VMs", async () => {
    const run = await runProgram(
      path.join(ROOT, "index.ts"),
      loadConfig(ROOT, "dev", { terminateNotification: "PT10M" }),
      "dev",
    );
    const vmss = run.resources.find((r) => r.type === "azure-native:compute:VirtualMachineScaleSet")!;
    assert.deepEqual(vmss.inputs.virtualMachineProfile.scheduledEventsProfile, {
      terminateNotificationProfile: { enable: true, notBeforeTimeout: "PT10M" },
    });
    assert.equal(vmss.inputs.virtualMachineProfile.priority, undefined);
  });
});

describe("Pulumi.yaml's config schema", () => {
  const schema = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")).config as Record<
    string,
    { type: string; default?: unknown; description?: string }
  >;

  it("runs index.ts as the program, not package.json's main (the library for other stacks)", () => {
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    assert.equal(project.main, "index.ts");
    assert.equal(project.runtime.name, "nodejs");
    assert.notEqual(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).main, "index.ts");
  });

  it("gives every key a type and a description", () => {
    for (const [key, decl] of Object.entries(schema)) {
      assert.ok(["string", "integer", "boolean", "array"].includes(decl.type), `${key} has no valid type`);
      assert.ok(decl.description && decl.description.length > 10, `${key} has no description`);
    }
  });

  it("states the component's own defaults, so the two cannot disagree", () => {
    const expected: Record<string, unknown> = {
      overprovision: defaults.DEFAULT_OVERPROVISION,
      doNotRunExtensionsOnOverprovisionedVMs: defaults.DEFAULT_DO_NOT_RUN_EXTENSIONS_ON_OVERPROVISIONED_VMS,
      vmSize: defaults.DEFAULT_VM_SIZE,
      adminUsername: defaults.DEFAULT_ADMIN_USERNAME,
      workerUser: defaults.DEFAULT_WORKER_USER,
      workerKind: WorkerKind.Foreground,
      installNodejs: defaults.DEFAULT_INSTALL_NODEJS,
      timeoutSeconds: DEFAULT_WAITER_TIMEOUT_SECONDS,
      priority: Priority.Regular,
      drainSeconds: DEFAULT_DRAIN_SECONDS,
      // Strings in Pulumi.yaml: a decimal, and "no notice".
      maxPrice: String(defaults.DEFAULT_MAX_PRICE),
      terminateNotification: "",
      healthExtension: defaults.DEFAULT_HEALTH_EXTENSION,
      healthPort: DEFAULT_HEALTH_PORT,
      automaticRepairs: false,
      automaticRepairsGracePeriod: DEFAULT_REPAIR_GRACE_PERIOD,
      automaticRepairsAction: DEFAULT_REPAIR_ACTION,
    };
    for (const [key, value] of Object.entries(expected))
      assert.deepEqual(schema[key]?.default, value, `Pulumi.yaml default of ${key}`);
  });

  it("has no default for what every stack must choose", () => {
    for (const key of ["location", "capacity", "delivery", "workerCommand", "sshPublicKey"]) {
      assert.equal(schema[key]?.default, undefined, key);
    }
  });
});
