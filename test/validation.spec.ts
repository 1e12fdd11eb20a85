import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as util from "util";
import * as pulumi from "@pulumi/pulumi";
import {
  DeliveryMode,
  MAX_CUSTOM_DATA_BYTES,
  RepairAction,
  WorkerScaleSet,
  WorkerScaleSetArgs,
  renderCustomData,
  sshKeyProblem,
} from "../components";
import { ResourceRecorder, installMocks, unwrap } from "../testkit/pulumiMocks";
import { minimalArgs } from "../testkit/componentArgs";

/** The InputPropertiesError a construction throws synchronously, or a failure. */
function rejection(args: WorkerScaleSetArgs, name = "bad"): pulumi.InputPropertiesError {
  try {
    new WorkerScaleSet(name, args);
  } catch (err) {
    assert.ok(pulumi.InputPropertiesError.isInstance(err), `expected InputPropertiesError, got ${err}`);
    return err as pulumi.InputPropertiesError;
  }
  assert.fail("the constructor accepted bad arguments");
}

function expectOnly(args: WorkerScaleSetArgs, property: string, reason: RegExp) {
  const err = rejection(args);
  assert.deepEqual(
    err.errors.map((e) => e.propertyPath),
    [property],
    err.message,
  );
  assert.match(err.errors[0].reason, reason);
  assert.ok(err.errors[0].reason.startsWith(property), "the reason names the property first");
  // The engine prints a remote component's reasons after its message, so the message is only a header.
  assert.equal(err.message, 'WorkerScaleSet "bad" has 1 invalid argument:');
  assert.ok(util.inspect(err).includes(err.errors[0].reason), "a failing TypeScript program prints every reason");
}

// A 1024-bit RSA key: well-formed, but Azure refuses it.
const RSA_1024 =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCyJ3PeWFkByenZqnDZWP0ItuLVTjVsr0avgNs64rX1IqdvjPKjBVMh6B4AG4AR/VRPb/asn+zesaFNiv7QyaV5nb3TtYrmRw6HX8HdIu54rB6Qs8GzTD0yt2h9CuiRF5gkWHszO39ZZTrxdbehWmKIVDIJRjAok99PuBKb3xsa4w== short";
const ECDSA =
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBImn65nanvFokUQWse68CS6uLByRYbvvNf9bEnDTU+zZhefv5JXYljW1cAakKLUNWs7bS8jIu/hHZfFoIt0RX04= me@host";

describe("WorkerScaleSet validation", () => {
  const recorder = new ResourceRecorder();
  before(async () => {
    await installMocks(recorder);
  });

  it("rejects a fractional capacity, naming the field, the range and the value", () => {
    expectOnly(minimalArgs({ capacity: 2.5 }), "capacity", /^capacity must be an integer from 0 to 1000 \(got 2\.5\)$/);
  });

  it("rejects a negative capacity and one above the Uniform limit", () => {
    expectOnly(minimalArgs({ capacity: -1 }), "capacity", /from 0 to 1000/);
    expectOnly(minimalArgs({ capacity: 1001 }), "capacity", /from 0 to 1000 \(got 1001\)/);
  });

  it("rejects more than 100 VMs in a single placement group, saying how to fix it", () => {
    expectOnly(
      minimalArgs({ capacity: 150, singlePlacementGroup: true }),
      "capacity",
      /0 to 100 .*set singlePlacementGroup to false/,
    );
  });

  it("rejects an unknown delivery mode and lists the valid ones", () => {
    expectOnly(minimalArgs({ delivery: "cron" as DeliveryMode }), "delivery", /"systemd", "cloudInit", "customScript"/);
  });

  it("rejects an empty or blank worker command", () => {
    expectOnly(minimalArgs({ workerCommand: "" }), "workerCommand", /non-empty/);
    expectOnly(minimalArgs({ workerCommand: "   " }), "workerCommand", /non-empty/);
  });

  it("rejects a worker command with a NUL byte, which no argv can carry", () => {
    expectOnly(minimalArgs({ workerCommand: "run\0me" }), "workerCommand", /NUL/);
  });

  it("rejects a missing ssh key and a malformed one", () => {
    const args = minimalArgs();
    delete (args as Partial<WorkerScaleSetArgs>).sshPublicKey;
    expectOnly(args, "sshPublicKey", /is required/);
    expectOnly(minimalArgs({ sshPublicKey: "not a key" }), "sshPublicKey", /ssh-rsa or ssh-ed25519/);
    expectOnly(minimalArgs({ sshPublicKey: "ssh-ed25519 !!!notbase64" }), "sshPublicKey", /not base64/);
  });

  it("rejects key types and sizes that Azure refuses", () => {
    expectOnly(minimalArgs({ sshPublicKey: ECDSA }), "sshPublicKey", /ssh-rsa or ssh-ed25519/);
    assert.match(sshKeyProblem(RSA_1024) ?? "", /1024-bit RSA key; Azure requires at least 2048 bits/);
  });

  it("rejects custom data over Azure's 65,535-byte limit, naming the size and the limit", () => {
    // Random bytes barely compress, so even gzip cannot make this fit.
    const incompressible = crypto.randomBytes(90000).toString("base64");
    const err = rejection(minimalArgs({ workerCommand: `echo ${incompressible}` }));
    assert.deepEqual(
      err.errors.map((e) => e.propertyPath),
      ["workerCommand"],
    );
    assert.match(
      err.errors[0].reason,
      new RegExp(`custom data \\d+ bytes even gzip-compressed, over Azure's limit of ${MAX_CUSTOM_DATA_BYTES} bytes`),
    );
  });

  it("rejects an admin user name that Azure reserves", () => {
    expectOnly(minimalArgs({ adminUsername: "admin" }), "adminUsername", /reserved by Azure/);
  });

  it("rejects an image that mixes an id with marketplace fields", () => {
    expectOnly(
      minimalArgs({ image: { id: "/subscriptions/x/images/y", publisher: "Canonical" } }),
      "image",
      /either id, or publisher/,
    );
  });

  it("rejects bad waiter settings", () => {
    expectOnly(minimalArgs({ timeoutSeconds: 0 }), "timeoutSeconds", /from 1 to/);
    expectOnly(minimalArgs({ imdsUrl: "ftp://169.254.169.254" }), "imdsUrl", /http:\/\/ or https:\/\//);
    expectOnly(minimalArgs({ armUrl: "not a url" }), "armUrl", /http:\/\/ or https:\/\//);
  });

  it("rejects a health port outside 1024–32767, and a waiter timeout the extension's grace period cannot cover", () => {
    expectOnly(
      minimalArgs({ healthPort: 80 }),
      "healthPort",
      /^healthPort must be an integer from 1024 to 32767.*\(got 80\)$/,
    );
    expectOnly(minimalArgs({ healthPort: 40000 }), "healthPort", /\(got 40000\)$/);
    expectOnly(
      minimalArgs({ timeoutSeconds: 13471 }),
      "timeoutSeconds",
      /^timeoutSeconds must be at most 13470 with the health extension on \(got 13471\).*cannot exceed 14400 s; lower timeoutSeconds, or set healthExtension: false$/,
    );
    // The largest timeout fits exactly; without the extension the waiter's own limit applies.
    new WorkerScaleSet("t-max", minimalArgs({ timeoutSeconds: 13470 }));
    new WorkerScaleSet("t-nohealth", minimalArgs({ timeoutSeconds: 20000, healthExtension: false }));
  });

  it("rejects automatic repairs outside the documented limits, each field by name with its fix", () => {
    const err = rejection(
      minimalArgs({
        automaticRepairs: { gracePeriod: "PT5M", action: "Delete" as RepairAction, enabled: "yes" as never },
      }),
    );
    assert.deepEqual(
      err.errors.map((e) => e.propertyPath),
      ["automaticRepairs.enabled", "automaticRepairs.gracePeriod", "automaticRepairs.action"],
    );
    assert.match(err.errors[1].reason, /from PT10M to PT90M, e\.g\. "PT30M" or "PT1H" \(got "PT5M"\)$/);
    assert.match(
      err.errors[2].reason,
      /must be a RepairAction: one of "Replace", "Reimage", "Restart" \(got "Delete"\)$/,
    );
    for (const bad of ["PT91M", "PT2H", "P1D", "PT600S", "30"]) {
      expectOnly(
        minimalArgs({ automaticRepairs: { gracePeriod: bad } }),
        "automaticRepairs.gracePeriod",
        /PT10M to PT90M/,
      );
    }
    expectOnly(
      minimalArgs({ healthExtension: false, automaticRepairs: {} }),
      "automaticRepairs",
      /needs a health source, and healthExtension is false .*set healthExtension: true, or automaticRepairs\.enabled: false$/,
    );
  });

  it("writes the repairs policy with every field, and none without automaticRepairs", async () => {
    const on = new WorkerScaleSet(
      "r-on",
      minimalArgs({ automaticRepairs: { gracePeriod: "PT1H30M", action: RepairAction.Reimage } }),
    );
    assert.deepEqual(await unwrap(on.scaleSet.automaticRepairsPolicy), {
      enabled: true,
      gracePeriod: "PT1H30M",
      repairAction: "Reimage",
    });
    new WorkerScaleSet("r-off", minimalArgs({ healthExtension: false, automaticRepairs: { enabled: false } }));
    const none = new WorkerScaleSet("r-none", minimalArgs());
    assert.equal(await unwrap(none.scaleSet.automaticRepairsPolicy), undefined);
  });

  it("rejects overprovisioning with extensions on the extras, naming both fields and the fix", () => {
    const fix = /set doNotRunExtensionsOnOverprovisionedVMs: true \(or leave it unset\), or set overprovision: false$/;
    for (const overprovision of [true, undefined]) {
      const args = minimalArgs({ doNotRunExtensionsOnOverprovisionedVMs: false });
      if (overprovision === undefined) delete args.overprovision;
      expectOnly(args, "doNotRunExtensionsOnOverprovisionedVMs", fix);
      const err = rejection(args);
      assert.match(err.errors[0].reason, /must be true when overprovision is true/);
      assert.equal(/\(its default\)/.test(err.errors[0].reason), overprovision === undefined);
    }
  });

  it("accepts extensions on every VM when the scale set does not overprovision", async () => {
    const component = new WorkerScaleSet(
      "no-op-ext",
      minimalArgs({ overprovision: false, doNotRunExtensionsOnOverprovisionedVMs: false }),
    );
    assert.equal(await unwrap(component.scaleSet.doNotRunExtensionsOnOverprovisionedVMs), false);
  });

  it("reports every problem at once and registers nothing", () => {
    const before = recorder.resources.length;
    const err = rejection(
      minimalArgs({
        capacity: 2.5,
        delivery: "cron" as DeliveryMode,
        workerCommand: "",
        sshPublicKey: "nope",
        doNotRunExtensionsOnOverprovisionedVMs: false,
      }),
      "many",
    );
    assert.deepEqual(err.errors.map((e) => e.propertyPath).sort(), [
      "capacity",
      "delivery",
      "doNotRunExtensionsOnOverprovisionedVMs",
      "sshPublicKey",
      "workerCommand",
    ]);
    assert.equal(recorder.resources.length, before);
  });

  it("prints as the header and one line per reason, once each and without a stack trace", () => {
    const err = rejection(minimalArgs({ capacity: 2.5, delivery: "cron" as DeliveryMode }), "many");
    // How the Node.js runtime prints an uncaught error (@pulumi/pulumi cmd/run/error.js).
    assert.equal(
      util.inspect(err, { colors: true }),
      [
        'WorkerScaleSet "many" has 2 invalid arguments:',
        '  - delivery must be a DeliveryMode: one of "systemd", "cloudInit", "customScript" (got "cron")',
        "  - capacity must be an integer from 0 to 1000 (got 2.5)",
      ].join("\n"),
    );
  });

  it("leaves Outputs to the platform instead of guessing", () => {
    const err = rejection(minimalArgs({ capacity: pulumi.output(2.5), delivery: "cron" as DeliveryMode }));
    assert.deepEqual(
      err.errors.map((e) => e.propertyPath),
      ["delivery"],
    );
  });

  it("renderCustomData refuses what it cannot carry, naming the option", () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ delivery: DeliveryMode.Systemd, workerCommand: "a\0b" }, "workerCommand", /NUL/],
      [{ delivery: DeliveryMode.Systemd, workerCommand: "" }, "workerCommand", /non-empty/],
      [{ delivery: "cron", workerCommand: "w" }, "delivery", /"systemd", "cloudInit", "customScript"/],
      [
        { delivery: DeliveryMode.CloudInit, workerCommand: "w", workerUser: "Bad User" },
        "workerUser",
        /Linux user name/,
      ],
      [{ delivery: DeliveryMode.CloudInit, workerCommand: "w", imdsUrl: "nope" }, "imdsUrl", /http:\/\//],
    ];
    for (const [options, property, reason] of cases) {
      assert.throws(
        () => renderCustomData(options as any),
        (err: any) =>
          pulumi.InputPropertiesError.isInstance(err) &&
          err.errors[0].propertyPath === property &&
          reason.test(err.message),
        `${property}: ${JSON.stringify(options)}`,
      );
    }
  });
});
