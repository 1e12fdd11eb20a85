/**
 * The component package as Python, Go and .NET get it: the provider started from PulumiPlugin.yaml
 * as the Pulumi CLI starts it (testkit/pulumiPlugin), its schema and Construct over gRPC, and the
 * Python example checked against the schema it serves. It runs the compiled bin/ (`npm run build`).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
  DEFAULT_ADMIN_USERNAME,
  DEFAULT_DRAIN_SECONDS,
  DEFAULT_MAX_PRICE,
  MAX_PRICE_DECIMALS,
  Priority,
  SPOT_MAX_DRAIN_SECONDS,
  DEFAULT_DO_NOT_RUN_EXTENSIONS_ON_OVERPROVISIONED_VMS,
  DEFAULT_HEALTH_EXTENSION,
  DEFAULT_IMAGE,
  DEFAULT_INSTALL_NODEJS,
  DEFAULT_OVERPROVISION,
  DEFAULT_SINGLE_PLACEMENT_GROUP,
  DEFAULT_VM_SIZE,
  DEFAULT_WORKER_USER,
  DeliveryMode,
  MAX_SINGLE_PLACEMENT_GROUP_CAPACITY,
  MAX_UNIFORM_CAPACITY,
  HEALTH_EXTENSION_NAME,
  START_EXTENSION_NAME,
  WORKER_SCALE_SET_TYPE,
  WorkerKind,
} from "../components";
import { MAX_TAGS, MIN_RSA_KEY_BITS } from "../components/validate";
import {
  DEFAULT_HEALTH_PORT,
  DEFAULT_REPAIR_ACTION,
  DEFAULT_REPAIR_GRACE_PERIOD,
  MAX_HEALTH_PORT,
  MIN_HEALTH_PORT,
  RepairAction,
} from "../components/health";
import { DEFAULT_WAITER_TIMEOUT_SECONDS } from "../components/waiterContract";
import { minimalArgs } from "../testkit/componentArgs";
import { ResourceRecorder, mockPrincipalId } from "../testkit/pulumiMocks";
import {
  FakeEngine,
  PackageSchema,
  assertLibraryBuilt,
  PluginProcess,
  ProviderClient,
  ResourceSpec,
  TypeSpec,
  connectProvider,
  launchComponentPlugin,
  startFakeEngine,
  typeRef,
} from "../testkit/pulumiPlugin";
import { engineProto } from "../testkit/pulumiPlugin/protocol";
import { checkPythonProgram } from "../testkit/pythonSdk/checkProgram";

const ROOT = path.resolve(__dirname, "..");
const PYTHON_EXAMPLE = path.join(ROOT, "examples", "python");
const PACKAGE = "hpc-workers";

const STRING: TypeSpec = { type: "string" };
const NUMBER: TypeSpec = { type: "number" };
const BOOLEAN: TypeSpec = { type: "boolean" };
const STRING_MAP: TypeSpec = { type: "object", additionalProperties: STRING };
const ref = (typeName: string): TypeSpec => ({ $ref: typeRef(PACKAGE, typeName) });
/** How a description states a default, by value: SDK users never see the DEFAULT_* constants. */
const defaultIs = (value: string | number | boolean) => `Default: ${value}`;

interface InputRow {
  name: string;
  type: TypeSpec;
  required: boolean;
  /** What the description must state, built from the constants the code applies. */
  states?: string[];
}

/** Every input of WorkerScaleSet as the schema must serve it. A new argument needs a row here. */
const INPUTS: InputRow[] = [
  { name: "resourceGroupName", type: STRING, required: true },
  { name: "subnetId", type: STRING, required: true },
  { name: "sshPublicKey", type: STRING, required: true, states: [`${MIN_RSA_KEY_BITS} bits`] },
  { name: "workerCommand", type: STRING, required: true },
  { name: "delivery", type: ref("DeliveryMode"), required: true, states: Object.values(DeliveryMode) },
  {
    name: "capacity",
    type: NUMBER,
    required: true,
    states: [`0 to ${MAX_UNIFORM_CAPACITY}`, `to ${MAX_SINGLE_PLACEMENT_GROUP_CAPACITY} when singlePlacementGroup`],
  },
  { name: "overprovision", type: BOOLEAN, required: false, states: [defaultIs(DEFAULT_OVERPROVISION)] },
  {
    name: "doNotRunExtensionsOnOverprovisionedVMs",
    type: BOOLEAN,
    required: false,
    states: [defaultIs(DEFAULT_DO_NOT_RUN_EXTENSIONS_ON_OVERPROVISIONED_VMS)],
  },
  {
    name: "singlePlacementGroup",
    type: BOOLEAN,
    required: false,
    states: [defaultIs(DEFAULT_SINGLE_PLACEMENT_GROUP), `at most ${MAX_SINGLE_PLACEMENT_GROUP_CAPACITY}`],
  },
  { name: "location", type: STRING, required: false, states: [defaultIs("the resource group's location")] },
  { name: "vmSize", type: STRING, required: false, states: [defaultIs(DEFAULT_VM_SIZE)] },
  {
    name: "image",
    type: ref("ImageReference"),
    required: false,
    // The image URN form: Publisher:Offer:Sku:Version.
    states: [
      defaultIs([DEFAULT_IMAGE.publisher, DEFAULT_IMAGE.offer, DEFAULT_IMAGE.sku, DEFAULT_IMAGE.version].join(":")),
    ],
  },
  { name: "adminUsername", type: STRING, required: false, states: [defaultIs(DEFAULT_ADMIN_USERNAME)] },
  { name: "workerUser", type: STRING, required: false, states: [defaultIs(DEFAULT_WORKER_USER)] },
  {
    name: "workerKind",
    type: ref("WorkerKind"),
    required: false,
    states: [...Object.values(WorkerKind), defaultIs(WorkerKind.Foreground)],
  },
  { name: "installNodejs", type: BOOLEAN, required: false, states: [defaultIs(DEFAULT_INSTALL_NODEJS)] },
  { name: "timeoutSeconds", type: NUMBER, required: false, states: [defaultIs(DEFAULT_WAITER_TIMEOUT_SECONDS)] },
  {
    name: "priority",
    type: ref("Priority"),
    required: false,
    states: [...Object.values(Priority), defaultIs(Priority.Regular), "replaces the scale set"],
  },
  {
    name: "maxPrice",
    type: NUMBER,
    required: false,
    states: [defaultIs(DEFAULT_MAX_PRICE), `${MAX_PRICE_DECIMALS} decimals`],
  },
  {
    name: "terminateNotification",
    type: STRING,
    required: false,
    states: ["PT5M to PT15M", "Not with Spot", defaultIs("unset")],
  },
  {
    name: "drainSeconds",
    type: NUMBER,
    required: false,
    states: [defaultIs(DEFAULT_DRAIN_SECONDS), `at most ${SPOT_MAX_DRAIN_SECONDS} with Spot`, "SIGTERM"],
  },
  { name: "imdsUrl", type: STRING, required: false },
  { name: "armUrl", type: STRING, required: false },
  {
    name: "healthExtension",
    type: BOOLEAN,
    required: false,
    states: ["Application Health extension", defaultIs(DEFAULT_HEALTH_EXTENSION)],
  },
  {
    name: "healthPort",
    type: NUMBER,
    required: false,
    states: [`${MIN_HEALTH_PORT} to ${MAX_HEALTH_PORT}`, defaultIs(DEFAULT_HEALTH_PORT)],
  },
  { name: "automaticRepairs", type: ref("AutomaticRepairs"), required: false, states: ["healthExtension"] },
  { name: "tags", type: STRING_MAP, required: false, states: [`at most ${MAX_TAGS}`] },
];

/** Every output, all always set. scaleSet and roleAssignment stay TypeScript-only getters. */
const OUTPUTS: Array<{ name: string; type: TypeSpec }> = [
  { name: "scaleSetId", type: STRING },
  { name: "scaleSetName", type: STRING },
  { name: "principalId", type: STRING },
  { name: "customData", type: STRING },
];

/** A description every SDK can show: present, a sentence, no TypeScript constant, no `{@link}` debris. */
function assertPortableDescription(where: string, description: string | undefined) {
  assert.ok(description, `${where} has no description: give it a JSDoc comment`);
  assert.doesNotMatch(description, /\[object Object\]/, `${where}: {@link} in JSDoc breaks the description`);
  assert.match(description, /\.$/, `${where}: the description should end as a sentence`);
  assert.doesNotMatch(description, /\b(DEFAULT|MAX|MIN)_[A-Z_]+/, `${where}: state the value, not the constant`);
}

function typeOf(spec: TypeSpec): TypeSpec {
  const { type, items, additionalProperties, $ref } = spec;
  return JSON.parse(JSON.stringify({ type, items, additionalProperties, $ref }));
}

describe("the hpc-workers provider, started from PulumiPlugin.yaml as the Pulumi CLI starts it", function () {
  this.timeout(180000);
  const recorder = new ResourceRecorder();
  let engine: FakeEngine;
  let plugin: PluginProcess;
  let provider: ProviderClient;
  let schema: PackageSchema;
  let component: ResourceSpec;

  before(async () => {
    assertLibraryBuilt(ROOT);
    const started = Date.now();
    engine = await startFakeEngine({ recorder, project: "consumer", stack: "dev" });
    // The working directory is the consumer's project, as for `pulumi up` in examples/python.
    plugin = await launchComponentPlugin({ pluginDir: ROOT, engineAddress: engine.address, pwd: PYTHON_EXAMPLE });
    const listening = Date.now();
    provider = connectProvider(plugin.address);
    schema = await provider.getSchema();
    component = schema.resources[WORKER_SCALE_SET_TYPE];
    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    console.log(
      `      (port after ${seconds(listening - started)} s, schema after ${seconds(Date.now() - started)} s)`,
    );
  });

  after(async () => {
    provider?.close();
    await plugin?.stop();
    await engine?.stop();
  });

  it("loads package.json main, bin/components/index.js, which npm install builds, never the stack program", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    assert.equal(require.resolve(ROOT), path.join(ROOT, pkg.main));
    assert.equal(pkg.main, "bin/components/index.js");
    assert.match(pkg.scripts.prepare, /npm run build/);
    // Node warns DEP0128 when main is missing and falls back to index.ts, the stack program.
    assert.doesNotMatch(plugin.stderr(), /DEP0128|Invalid 'main'/);
  });

  describe("GetSchema", () => {
    it("names the package after package.json and depends on no other package", () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
      assert.equal(schema.name, PACKAGE);
      assert.equal(schema.version, pkg.version);
      assert.deepEqual(schema.dependencies, []);
      assert.deepEqual(Object.keys(schema.resources), [WORKER_SCALE_SET_TYPE]);
    });

    it("serves WorkerScaleSet as a described component", () => {
      assert.equal(WORKER_SCALE_SET_TYPE, "hpc-workers:index:WorkerScaleSet");
      assert.equal(component.isComponent, true);
      assertPortableDescription("WorkerScaleSet", component.description);
    });

    it("has a row in INPUTS for every input it serves", () => {
      const missing = Object.keys(component.inputProperties).filter((name) => !INPUTS.some((r) => r.name === name));
      assert.deepEqual(missing, [], `add a row to INPUTS in test/provider.spec.ts for: ${missing.join(", ")}`);
    });

    for (const row of INPUTS) {
      it(`serves the input ${row.name}: its type, ${row.required ? "required" : "optional"}, described`, () => {
        const input = component.inputProperties[row.name];
        assert.ok(input, `the schema has no input ${row.name}: a union type or a function drops it, or it was renamed`);
        assert.deepEqual(typeOf(input), typeOf(row.type));
        assert.equal(input.optional === true, !row.required, "optional-ness");
        assert.equal(component.requiredInputs?.includes(row.name) ?? false, row.required, "requiredInputs");
        assert.equal(input.plain, undefined, "every argument is a pulumi.Input");
        assertPortableDescription(row.name, input.description);
        for (const fact of row.states ?? []) assert.ok(input.description!.includes(fact), `${row.name}: "${fact}"`);
      });
    }

    it("serves exactly the outputs, all required and described, and no azure-native resource", () => {
      assert.deepEqual(Object.keys(component.properties).sort(), OUTPUTS.map((o) => o.name).sort());
      assert.deepEqual([...(component.required ?? [])].sort(), OUTPUTS.map((o) => o.name).sort());
      for (const output of OUTPUTS) {
        assert.deepEqual(typeOf(component.properties[output.name]), typeOf(output.type), output.name);
        assertPortableDescription(`output ${output.name}`, component.properties[output.name].description);
      }
    });

    it("serves DeliveryMode, WorkerKind, Priority and RepairAction as string enums with the TypeScript constants' members", () => {
      for (const [name, constant] of Object.entries({ DeliveryMode, WorkerKind, Priority, RepairAction })) {
        const type = schema.types?.[`${PACKAGE}:index:${name}`];
        assert.ok(type && "enum" in type, `${name} is not an enum type`);
        assert.equal(type.type, "string");
        assert.deepEqual(
          type.enum.map((m) => [m.name, m.value]),
          Object.entries(constant),
        );
        for (const member of type.enum) assertPortableDescription(`${name}.${member.name}`, member.description);
      }
    });

    it("serves ImageReference as an object of optional, described strings", () => {
      const type = schema.types?.[`${PACKAGE}:index:ImageReference`];
      assert.ok(type && type.type === "object", "ImageReference is not an object type");
      assert.deepEqual(Object.keys(type.properties), ["publisher", "offer", "sku", "version", "id"]);
      for (const [name, field] of Object.entries(type.properties)) {
        assert.deepEqual(typeOf(field), STRING);
        assert.equal(field.optional, true);
        assertPortableDescription(`ImageReference.${name}`, field.description);
      }
    });

    it("serves AutomaticRepairs as an object of optional, described fields stating their limits and defaults", () => {
      const type = schema.types?.[`${PACKAGE}:index:AutomaticRepairs`];
      assert.ok(type && type.type === "object", "AutomaticRepairs is not an object type");
      assert.deepEqual(Object.keys(type.properties), ["enabled", "gracePeriod", "action"]);
      assert.deepEqual(typeOf(type.properties.enabled), BOOLEAN);
      assert.deepEqual(typeOf(type.properties.gracePeriod), STRING);
      assert.deepEqual(typeOf(type.properties.action), ref("RepairAction"));
      for (const [name, field] of Object.entries(type.properties)) {
        assert.equal(field.optional, true);
        assertPortableDescription(`AutomaticRepairs.${name}`, field.description);
      }
      assert.ok(type.properties.enabled.description!.includes(defaultIs(true)));
      assert.ok(type.properties.gracePeriod.description!.includes("PT10M to PT90M"));
      assert.ok(type.properties.gracePeriod.description!.includes(defaultIs(DEFAULT_REPAIR_GRACE_PERIOD)));
      assert.ok(type.properties.action.description!.includes(defaultIs(DEFAULT_REPAIR_ACTION)));
    });
  });

  describe("Construct", () => {
    // Plain JSON, as the consumer's SDK sends it.
    const request = (name: string, inputs: object) => ({
      type: WORKER_SCALE_SET_TYPE,
      name,
      inputs: inputs as Record<string, unknown>,
      monitorAddress: engine.address,
      project: "consumer",
      stack: "dev",
      dryRun: false,
    });

    it("rejects bad arguments with every property error, its schema path and its fix, and registers nothing", async () => {
      const registered = recorder.resources.length;
      const outcome = await provider.construct(
        request("bad", {
          ...minimalArgs(),
          subnetId: "/subs/x",
          workerCommand: "",
          delivery: "bogus",
          capacity: 5000,
          tags: { "a/b": "x" },
        }),
      );
      assert.equal(outcome.kind, "rejected");
      assert.ok(outcome.kind === "rejected");
      // The engine prints the reasons after the message, so the message lists none of them.
      assert.equal(outcome.message, 'WorkerScaleSet "bad" has 5 invalid arguments:');
      assert.deepEqual(
        outcome.propertyErrors.map((e) => e.propertyPath),
        ["subnetId", "workerCommand", "delivery", "capacity", "tags.a/b"],
      );
      for (const { propertyPath, reason } of outcome.propertyErrors) {
        assert.ok(reason.startsWith(propertyPath), `the reason names ${propertyPath} first: ${reason}`);
      }
      assert.equal(
        outcome.propertyErrors[2].reason,
        'delivery must be a DeliveryMode: one of "systemd", "cloudInit", "customScript" (got "bogus")',
      );
      assert.equal(outcome.propertyErrors[3].reason, "capacity must be an integer from 0 to 1000 (got 5000)");
      assert.equal(recorder.resources.length, registered, "nothing is registered before the arguments are valid");
    });

    it("constructs the component and registers the scale set and its role assignment under it", async () => {
      recorder.clear();
      const outcome = await provider.construct(request("w1", minimalArgs({ delivery: DeliveryMode.CustomScript })));
      assert.ok(outcome.kind === "constructed", JSON.stringify(outcome));
      const urn = `urn:pulumi:dev::consumer::${WORKER_SCALE_SET_TYPE}::w1`;
      assert.equal(outcome.urn, urn);
      assert.deepEqual(
        recorder.resources.map((r) => [r.type, r.name]),
        [
          [WORKER_SCALE_SET_TYPE, "w1"],
          ["azure-native:compute:VirtualMachineScaleSet", "w1-vmss"],
          ["azure-native:authorization:RoleAssignment", "w1-reader"],
        ],
      );
      assert.equal(
        engine.urns.get("w1-vmss"),
        `urn:pulumi:dev::consumer::${WORKER_SCALE_SET_TYPE}$azure-native:compute:VirtualMachineScaleSet::w1-vmss`,
      );
      const vmss = recorder.byName("w1-vmss").inputs;
      assert.deepEqual(
        vmss.virtualMachineProfile.extensionProfile.extensions.map((e: { name: string }) => e.name),
        [START_EXTENSION_NAME, HEALTH_EXTENSION_NAME],
        "customScript adds the CSE, then the health extension",
      );
      assert.equal(recorder.byName("w1-reader").inputs.principalId, mockPrincipalId("w1-vmss"));
      assert.deepEqual(Object.keys(outcome.state).sort(), OUTPUTS.map((o) => o.name).sort());
      assert.equal(outcome.state.scaleSetName, "w1-vmss");
      assert.equal(outcome.state.principalId, mockPrincipalId("w1-vmss"));
      assert.match(String(outcome.state.customData), /^#cloud-config\n/);
      assert.ok(engine.registeredOutputs.has(urn), "the component registers its outputs");
      const warnings = engine.logs.filter((log) => log.severity >= engineProto.LogSeverity.WARNING);
      assert.deepEqual(warnings, [], "no warning or error is logged");
    });
  });

  describe("the Python example (examples/python), as the generated SDK would take it", () => {
    it("names the package in Pulumi.yaml and requirements.txt as `pulumi package add ../..` writes them", () => {
      const project = YAML.parse(fs.readFileSync(path.join(PYTHON_EXAMPLE, "Pulumi.yaml"), "utf8"));
      assert.equal(project.runtime.name, "python");
      assert.deepEqual(Object.keys(project.packages), [schema.name]);
      assert.equal(path.resolve(PYTHON_EXAMPLE, project.packages[schema.name]), ROOT);
      assert.ok(fs.existsSync(path.join(ROOT, "PulumiPlugin.yaml")));
      const requirements = fs.readFileSync(path.join(PYTHON_EXAMPLE, "requirements.txt"), "utf8").split("\n");
      assert.ok(requirements.includes(`sdks/${schema.name}`), "the pip toolchain links the SDK as sdks/<package>");
    });

    it("calls only what the schema serves, by the Python code generator's names, with every required input", () => {
      assert.deepEqual(checkPythonProgram(schema, path.join(PYTHON_EXAMPLE, "__main__.py")), []);
    });
  });
});
