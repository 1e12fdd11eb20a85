/** priority, maxPrice, terminateNotification and drainSeconds: their checks and what they put on the scale set. */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_MAX_PRICE,
  Priority,
  SPOT_MAX_DRAIN_SECONDS,
  WorkerScaleSet,
  WorkerScaleSetArgs,
  drainWithin,
  isoDurationSeconds,
} from "../components";
import { resolvedEvictionProfile } from "../components/spot";
import { ResourceRecorder, installMocks, unwrap } from "../testkit/pulumiMocks";
import { minimalArgs } from "../testkit/componentArgs";

const VMSS = "azure-native:compute:VirtualMachineScaleSet";

function reasons(args: WorkerScaleSetArgs): string[] {
  try {
    new WorkerScaleSet("bad", args);
  } catch (err) {
    assert.ok(pulumi.InputPropertiesError.isInstance(err), String(err));
    return err.errors.map((e) => e.reason);
  }
  return [];
}

describe("Spot, terminate notifications and the drain time", () => {
  const recorder = new ResourceRecorder();
  before(async () => {
    await installMocks(recorder);
  });

  async function profile(name: string, args: Partial<WorkerScaleSetArgs>) {
    const component = new WorkerScaleSet(name, minimalArgs(args));
    await unwrap(component.roleAssignment.id);
    return recorder.resources.find((r) => r.type === VMSS && r.name === `${name}-vmss`)!.inputs.virtualMachineProfile;
  }

  it("leaves priority, eviction, billing and notices unset by default, so existing stacks see no change", async () => {
    const p = await profile("regular", {});
    for (const key of ["priority", "evictionPolicy", "billingProfile", "scheduledEventsProfile"]) {
      assert.equal(p[key], undefined, key);
    }
  });

  it("makes Spot VMs that are deleted on eviction and paid up to the on-demand price by default", async () => {
    const p = await profile("spot", { priority: Priority.Spot });
    assert.equal(p.priority, "Spot");
    assert.equal(p.evictionPolicy, "Delete");
    assert.deepEqual(p.billingProfile, { maxPrice: DEFAULT_MAX_PRICE });
    assert.equal(p.scheduledEventsProfile, undefined);
  });

  it("carries a max price and a terminate notification as Azure's model spells them", async () => {
    assert.deepEqual((await profile("priced", { priority: Priority.Spot, maxPrice: 0.01538 })).billingProfile, {
      maxPrice: 0.01538,
    });
    assert.deepEqual((await profile("noticed", { terminateNotification: "PT10M" })).scheduledEventsProfile, {
      terminateNotificationProfile: { enable: true, notBeforeTimeout: "PT10M" },
    });
  });

  it("accepts the edges: -1, five decimals, PT5M and PT15M, 26 s with Spot, a 296 s drain with PT5M", () => {
    assert.deepEqual(reasons(minimalArgs({ priority: Priority.Spot, maxPrice: -1, drainSeconds: 26 })), []);
    assert.deepEqual(reasons(minimalArgs({ priority: Priority.Spot, maxPrice: 0.00001 })), []);
    assert.deepEqual(reasons(minimalArgs({ terminateNotification: "PT5M", drainSeconds: 296 })), []);
    assert.deepEqual(reasons(minimalArgs({ terminateNotification: "PT15M", drainSeconds: 896 })), []);
    assert.equal(SPOT_MAX_DRAIN_SECONDS, 26);
    assert.equal(drainWithin(300), 296);
  });

  it("refuses an unknown priority and lists the valid ones", () => {
    assert.deepEqual(reasons(minimalArgs({ priority: "Low" as Priority })), [
      'priority must be a Priority: one of "Regular", "Spot" (got "Low")',
    ]);
  });

  it("refuses a max price Azure refuses: 0, below -1, six decimals, text", () => {
    for (const maxPrice of [0, -2, 0.000001, 1.123456, "0.5" as unknown as number]) {
      const got = reasons(minimalArgs({ priority: Priority.Spot, maxPrice }));
      assert.equal(got.length, 1, String(maxPrice));
      assert.match(got[0], /^maxPrice must be -1 \(pay up to the on-demand price\) or a price .* at most 5 decimals/);
    }
  });

  it("refuses a max price without Spot, as Azure does (MaxPriceIsSupportedOnlyForAzureSpotVirtualMachines)", () => {
    assert.deepEqual(reasons(minimalArgs({ maxPrice: 0.05 })), [
      'maxPrice applies to Spot VMs only, and Azure refuses it on others (MaxPriceIsSupportedOnlyForAzureSpotVirtualMachines): set priority to "Spot", or remove maxPrice',
    ]);
  });

  it("refuses a terminate notification outside PT5M..PT15M or not in ISO 8601", () => {
    for (const terminateNotification of ["PT4M59S", "PT16M", "5", "P1D", "PT", "10 minutes"]) {
      assert.deepEqual(
        reasons(minimalArgs({ terminateNotification })),
        [
          `terminateNotification must be an ISO 8601 duration from PT5M to PT15M, e.g. "PT10M" (got "${terminateNotification}")`,
        ],
        terminateNotification,
      );
    }
    assert.equal(isoDurationSeconds("PT7M30S"), 450);
    assert.equal(isoDurationSeconds("PT0H10M"), 600);
  });

  it("refuses a terminate notification with Spot, quoting Azure", () => {
    const got = reasons(minimalArgs({ priority: Priority.Spot, terminateNotification: "PT5M" }));
    assert.equal(got.length, 1);
    assert.match(
      got[0],
      /^terminateNotification cannot be set with priority "Spot": .*"Terminate notifications cannot be enabled on Spot instances"/,
    );
  });

  it("refuses a drain time the notice cannot give: over 26 s with Spot, over the terminate notice less 4 s", () => {
    assert.deepEqual(reasons(minimalArgs({ priority: Priority.Spot, drainSeconds: 27 })).length, 1);
    assert.match(
      reasons(minimalArgs({ priority: Priority.Spot, drainSeconds: 27 }))[0],
      /^drainSeconds must be at most 26 with priority "Spot": an eviction is announced 30 s ahead/,
    );
    assert.match(
      reasons(minimalArgs({ terminateNotification: "PT5M", drainSeconds: 297 }))[0],
      /^drainSeconds must be at most 296 with terminateNotification "PT5M"/,
    );
  });

  it("refuses a drain time that is not a whole number of seconds from 1 to 900", () => {
    for (const drainSeconds of [0, 901, 2.5, -1]) {
      assert.deepEqual(reasons(minimalArgs({ drainSeconds })), [
        `drainSeconds must be a whole number of seconds from 1 to 900 (got ${drainSeconds})`,
      ]);
    }
  });

  it("reports every problem at once", () => {
    const got = reasons(
      minimalArgs({ priority: Priority.Spot, maxPrice: 0, terminateNotification: "PT5M", drainSeconds: 60 }),
    );
    assert.deepEqual(
      got.map((r) => r.split(" ")[0]),
      ["maxPrice", "terminateNotification", "drainSeconds"],
    );
  });

  it("fails the deployment when Outputs combine into what Azure refuses (Spot with a terminate notification)", () => {
    assert.throws(
      () => resolvedEvictionProfile("late", { priority: Priority.Spot, terminateNotification: "PT5M" }),
      (err: pulumi.InputPropertiesError) =>
        err.message === 'WorkerScaleSet "late" has 1 invalid argument:' &&
        /Terminate notifications cannot be enabled on Spot instances/.test(err.errors[0].reason),
    );
  });
});
