/**
 * The offline check of Python programs against a schema (testkit/pythonSdk): the port of the
 * Python code generator's naming, and the checker on small programs that get it wrong.
 * test/provider.spec.ts runs it on examples/python against the schema the provider serves.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PackageSchema } from "../testkit/pulumiPlugin";
import { checkPythonProgram } from "../testkit/pythonSdk/checkProgram";
import { enumMemberName, initParamName, pyName, pyPackage } from "../testkit/pythonSdk/naming";

/** pulumi/pulumi v3.248.0 pkg/codegen/python/python_test.go, pyNameTests: input → PyName. */
const UPSTREAM_PY_NAMES: Array<[string, string]> = [
  ["kubeletConfigKey", "kubelet_config_key"],
  ["podCIDR", "pod_cidr"],
  ["podCidr", "pod_cidr"],
  ["podCIDRs", "pod_cidrs"],
  ["podIPs", "pod_ips"],
  ["nonResourceURLs", "non_resource_urls"],
  ["someTHINGsAREWeird", "some_things_are_weird"],
  ["podCIDRSet", "pod_cidr_set"],
  ["Sha256Hash", "sha256_hash"],
  ["SHA256Hash", "sha256_hash"],
  ["proj:config", "proj_config"],
  // PyName keeps the legacy name for these:
  ["openXJsonSerDe", "open_x_json_ser_de"],
  ["GetPublicIPs", "get_public_i_ps"],
  ["GetUptimeCheckIPs", "get_uptime_check_i_ps"],
];

/** A package with one component, one enum and one object type, shaped as the provider infers them. */
const SCHEMA: PackageSchema = {
  name: "hpc-workers",
  resources: {
    "hpc-workers:index:WorkerScaleSet": {
      isComponent: true,
      inputProperties: {
        subnetId: { type: "string" },
        delivery: { $ref: "#/types/hpc-workers:index:DeliveryMode" },
        image: { $ref: "#/types/hpc-workers:index:ImageReference", optional: true },
        doNotRunExtensionsOnOverprovisionedVMs: { type: "boolean", optional: true },
      },
      requiredInputs: ["delivery", "subnetId"],
      properties: { scaleSetId: { type: "string" } },
      required: ["scaleSetId"],
    },
  },
  types: {
    "hpc-workers:index:DeliveryMode": {
      type: "string",
      enum: [
        { name: "Systemd", value: "systemd" },
        { name: "CustomScript", value: "customScript" },
      ],
    },
    "hpc-workers:index:ImageReference": { type: "object", properties: { id: { type: "string", optional: true } } },
  },
};

const GOOD = `import pulumi
import pulumi_hpc_workers as hw

w = hw.WorkerScaleSet(
    "w",
    subnet_id="/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/n",
    delivery=hw.DeliveryMode.CUSTOM_SCRIPT,
    do_not_run_extensions_on_overprovisioned_vms=True,
    image=hw.ImageReferenceArgs(id="/subscriptions/s/images/i"),
    opts=pulumi.ResourceOptions(protect=True),
)
pulumi.export("id", w.scale_set_id)
pulumi.export("urn", w.urn)
`;

describe("checking a Python program against a schema, offline", () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "pycheck-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The problems the checker finds in `source`. */
  function check(source: string): string[] {
    const file = path.join(dir, `program-${Math.random().toString(36).slice(2)}.py`);
    fs.writeFileSync(file, source);
    return checkPythonProgram(SCHEMA, file);
  }

  it("names properties as the Python code generator's own test table says", () => {
    assert.deepEqual(
      UPSTREAM_PY_NAMES.map(([input]) => pyName(input)),
      UPSTREAM_PY_NAMES.map(([, expected]) => expected),
    );
  });

  it("names the package, keyword arguments and enum members as the generated SDK does", () => {
    assert.equal(pyPackage("hpc-workers"), "pulumi_hpc_workers");
    assert.equal(pyPackage("workers", "my-org"), "my_org_workers");
    assert.equal(
      initParamName("doNotRunExtensionsOnOverprovisionedVMs"),
      "do_not_run_extensions_on_overprovisioned_vms",
    );
    assert.equal(initParamName("resourceName"), "resource_name_", "the constructor's own parameter is not shadowed");
    assert.equal(initParamName("opts"), "opts_");
    assert.equal(pyName("lambda"), "lambda_", "keywords get a trailing underscore");
    assert.equal(enumMemberName("CloudInit", "DeliveryMode"), "CLOUD_INIT");
    assert.equal(enumMemberName("_internal", "DeliveryMode"), "DELIVERY_MODE_INTERNAL");
  });

  it("finds nothing wrong in a program that matches the schema, in either import form", () => {
    assert.deepEqual(check(GOOD), []);
    const fromImport = GOOD.replace(
      "import pulumi_hpc_workers as hw",
      "from pulumi_hpc_workers import WorkerScaleSet, DeliveryMode, ImageReferenceArgs",
    ).replace(/hw\./g, "");
    assert.deepEqual(check(fromImport), []);
  });

  it("reports a camelCase keyword as unknown and the required input it leaves out", () => {
    assert.deepEqual(check(GOOD.replace("subnet_id=", "subnetId=")), [
      "line 4: WorkerScaleSet has no argument subnetId",
      "line 4: WorkerScaleSet misses the required subnet_id",
    ]);
  });

  it("reports an enum member, an object field, an output and a class that the SDK does not have", () => {
    const bad = GOOD.replace("CUSTOM_SCRIPT", "CUSTOMSCRIPT")
      .replace('ImageReferenceArgs(id="/subscriptions/s/images/i")', 'ImageReferenceArgs(image_id="x")')
      .replace("w.scale_set_id", "w.scale_set")
      .replace('pulumi.export("urn", w.urn)', "hw.WorkerPool");
    assert.deepEqual(check(bad).sort(), [
      "line 12: WorkerScaleSet has no output scale_set",
      "line 13: pulumi_hpc_workers has no WorkerPool",
      "line 7: DeliveryMode.CUSTOMSCRIPT is not one of SYSTEMD, CUSTOM_SCRIPT",
      "line 9: ImageReferenceArgs has no argument image_id",
    ]);
  });

  it("reports a program that does not import the SDK, or passes arguments it cannot see", () => {
    const notImported = check("import pulumi\n");
    assert.equal(notImported.length, 1);
    assert.match(notImported[0], /^program-\w+\.py does not import pulumi_hpc_workers$/);
    assert.deepEqual(check(GOOD.replace('"w",', '"w", **extra,')), [
      "line 4: WorkerScaleSet(**...) cannot be checked; pass keywords",
    ]);
  });
});
