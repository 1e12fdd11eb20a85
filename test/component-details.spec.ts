/**
 * The small pure pieces behind the component, each at its edges: the host-name prefix, the custom-data
 * encoding around Azure's limit, the kept-proof extension's settings, the worker unit's description,
 * the extension hold once Outputs resolve, and the scale set's model field by field under mocks.
 */
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { DeliveryMode, MAX_CUSTOM_DATA_BYTES, WorkerKind, WorkerScaleSet, renderCustomData } from "../components";
import { isoDurationSeconds } from "../components/azureFormats";
import { CustomDataTooLargeError, encodeCustomData } from "../components/customData";
import {
  DEFAULT_IMAGE,
  DEFAULT_OS_DISK_TYPE,
  DEFAULT_SINGLE_PLACEMENT_GROUP,
  DEFAULT_VM_SIZE,
} from "../components/defaults";
import { KEPT_EXTENSION_NAME, keptFileCommand, renderExtensions } from "../components/extensions";
import { renderWorkerUnit } from "../components/units";
import { customScriptCommand } from "../components/delivery";
import { renderHealthServiceUnit } from "../components/healthUnits";
import { resolvedExtensionHold } from "../components/validate";
import { computerNamePrefix } from "../components/workerScaleSet";
import { minimalArgs } from "../testkit/componentArgs";
import { ResourceRecorder, installMocks, unwrap } from "../testkit/pulumiMocks";

describe("computerNamePrefix: a host-name prefix from any component name", () => {
  const cases: Array<[string, string]> = [
    ["workers", "workers"],
    ["HPC_Workers.eu", "hpcworkerseu"],
    ["--workers--", "workers"],
    ["render-farm-west-europe", "render-farm-wes"],
    ["abcdefghijklmn--x", "abcdefghijklmn"],
    ["___", "worker"],
    ["", "worker"],
  ];
  for (const [name, prefix] of cases) {
    it(`${JSON.stringify(name)} → ${JSON.stringify(prefix)}`, () => assert.equal(computerNamePrefix(name), prefix));
  }
});

describe("encodeCustomData around Azure's limit", () => {
  it("sends plain base64 up to the limit, and gzip just past it", () => {
    const atLimit = "#".repeat(MAX_CUSTOM_DATA_BYTES);
    assert.deepEqual(encodeCustomData(atLimit), {
      base64: Buffer.from(atLimit).toString("base64"),
      bytes: MAX_CUSTOM_DATA_BYTES,
      gzipped: false,
    });
    const past = encodeCustomData(`${atLimit}#`);
    assert.equal(past.gzipped, true);
    assert.equal(past.bytes, zlib.gzipSync(Buffer.from(`${atLimit}#`), { level: 9 }).length, "the smallest gzip");
    assert.equal(past.bytes, Buffer.from(past.base64, "base64").length);
  });

  it("refuses what gzip cannot bring under the limit, with the size and the fix", () => {
    const random = crypto.randomBytes(MAX_CUSTOM_DATA_BYTES).toString("latin1");
    assert.throws(
      () => encodeCustomData(random),
      (err: CustomDataTooLargeError) =>
        err instanceof CustomDataTooLargeError &&
        err.bytes > MAX_CUSTOM_DATA_BYTES &&
        err.message ===
          `custom data is ${err.bytes} bytes even gzip-compressed, over Azure's limit of ${MAX_CUSTOM_DATA_BYTES} bytes; shorten workerCommand`,
    );
  });

  it("renderCustomData names itself and every problem with its options", () => {
    assert.throws(
      () => renderCustomData({ delivery: "bogus" as DeliveryMode, workerCommand: "" }),
      (err: Error) => /^renderCustomData: workerCommand must be .*; delivery must be a DeliveryMode/.test(err.message),
    );
  });
});

describe("the kept-proof extension and the worker unit, field by field", () => {
  it("joins the IMDS URL and the vmId path with one slash, however many the URL ends with", () => {
    for (const base of ["http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080///"]) {
      assert.match(
        keptFileCommand({ imdsUrl: base }),
        /^url='http:\/\/127\.0\.0\.1:8080\/metadata\/instance\/compute\/vmId\?api-version=[0-9-]+&format=text'$/m,
      );
    }
  });

  it("is a CSE that takes minor updates, and overprovisioning is on unless said otherwise", () => {
    const [kept, ...rest] = renderExtensions({ delivery: DeliveryMode.Systemd });
    assert.equal(rest.length, 0);
    assert.equal(kept.name, KEPT_EXTENSION_NAME);
    assert.equal(kept.autoUpgradeMinorVersion, true);
    assert.deepEqual(renderExtensions({ delivery: DeliveryMode.Systemd, overprovision: false }), []);
  });

  it("starts the worker unit from the CSE through a transient unit ordered after cloud-final, without waiting", () => {
    assert.equal(
      customScriptCommand(),
      "systemd-run --no-block --collect --property=After=cloud-final.service --description=hpc-workers-start-worker /bin/systemctl start --no-block hpc-worker.service",
    );
  });

  it("binds the health service to its socket, and never gives up restarting it", () => {
    const unit = renderHealthServiceUnit({ workerUser: "hpc" });
    assert.match(
      unit,
      /^\[Unit\]\nDescription=hpc-workers health endpoint \(answers the Application Health extension\)\nRequires=hpc-worker-health\.socket\nAfter=hpc-worker-health\.socket\nStartLimitIntervalSec=0\n/,
    );
  });

  it("describes the worker unit in systemctl status", () => {
    const unit = renderWorkerUnit({
      workerUser: "hpc",
      workerKind: WorkerKind.Foreground,
      installNodejs: true,
      drainSeconds: 60,
    });
    assert.match(unit, /^Description=hpc-workers worker \(starts once Azure reports this VM Succeeded\)$/m);
  });

  it("reads ISO 8601 durations of two-digit hours", () => {
    assert.equal(isoDurationSeconds("PT12H"), 12 * 3600);
    assert.equal(isoDurationSeconds("PT1H30M15S"), 5415);
  });
});

describe("the extension hold once Outputs resolve", () => {
  it("fails the deployment, naming the component and the fix, when they turn it off while overprovisioning", () => {
    assert.throws(
      () => resolvedExtensionHold("late", true, false),
      (err: Error) => /^WorkerScaleSet "late": doNotRunExtensionsOnOverprovisionedVMs must be true/.test(err.message),
    );
    assert.equal(resolvedExtensionHold("late", false, false), false);
    assert.equal(resolvedExtensionHold("late", true, true), true);
  });
});

describe("the scale set's model under mocks", () => {
  const VMSS = "azure-native:compute:VirtualMachineScaleSet";
  const recorder = new ResourceRecorder();
  before(async () => {
    await installMocks(recorder);
  });

  async function model(name: string, args = minimalArgs()) {
    const component = new WorkerScaleSet(name, args);
    await unwrap(component.roleAssignment.id);
    return recorder.resources.filter((r) => r.type === VMSS && r.name === `${name}-vmss`).pop()!.inputs;
  }

  it("fills every default Azure would otherwise choose", async () => {
    const vmss = await model("m-defaults");
    assert.deepEqual(vmss.sku, { name: DEFAULT_VM_SIZE, tier: "Standard", capacity: 3 });
    assert.equal(vmss.singlePlacementGroup, DEFAULT_SINGLE_PLACEMENT_GROUP);
    const profile = vmss.virtualMachineProfile;
    assert.equal(profile.osProfile.computerNamePrefix, "m-defaults");
    assert.equal(profile.osProfile.linuxConfiguration.provisionVMAgent, true);
    assert.deepEqual(profile.storageProfile.imageReference, DEFAULT_IMAGE);
    assert.equal(profile.storageProfile.osDisk.createOption, "FromImage");
    assert.deepEqual(profile.storageProfile.osDisk.managedDisk, { storageAccountType: DEFAULT_OS_DISK_TYPE });
    const [nic] = profile.networkProfile.networkInterfaceConfigurations;
    assert.equal(nic.name, "m-defaults-nic");
    assert.equal(nic.primary, true);
    assert.equal(nic.ipConfigurations[0].name, "m-defaults-ipconfig");
    assert.equal(nic.ipConfigurations[0].primary, true);
  });

  it("takes the size, image and placement it is given", async () => {
    const image = { id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/images/hpc" };
    const vmss = await model(
      "m-given",
      minimalArgs({ vmSize: "Standard_HB120rs_v3", image, singlePlacementGroup: true }),
    );
    assert.equal(vmss.sku.name, "Standard_HB120rs_v3");
    assert.deepEqual(vmss.virtualMachineProfile.storageProfile.imageReference, image);
    assert.equal(vmss.singlePlacementGroup, true);
  });

  it("has no extension profile when nothing needs an extension", async () => {
    const vmss = await model("m-bare", minimalArgs({ overprovision: false, healthExtension: false }));
    assert.equal(vmss.virtualMachineProfile.extensionProfile, undefined);
  });

  it("validates an object argument's Outputs when they resolve, not as objects", async () => {
    const vmss = await model("m-late", minimalArgs({ automaticRepairs: { gracePeriod: pulumi.output("PT30M") } }));
    assert.equal(vmss.automaticRepairsPolicy.gracePeriod, "PT30M");
  });
});
