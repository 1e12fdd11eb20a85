/**
 * The Spot and terminate-notification rule: one happy Spot scale set and one happy Regular one with
 * a terminate notification, then one field changed per test and exactly one violation expected.
 */
import * as assert from "assert";
import { ResourceSnapshot, evaluatePolicies } from "../policy/evaluate";
import { policies, spotSettingsAccepted } from "../policy/policies";

const URN = "urn:pulumi:test::hpc-workers::azure-native:compute:VirtualMachineScaleSet::workers-vmss";

function spotProfile(): Record<string, any> {
  return { priority: "Spot", evictionPolicy: "Delete", billingProfile: { maxPrice: -1 } };
}

function noticedProfile(): Record<string, any> {
  return { scheduledEventsProfile: { terminateNotificationProfile: { enable: true, notBeforeTimeout: "PT10M" } } };
}

async function violations(profile: Record<string, any>): Promise<string[]> {
  const vmss: ResourceSnapshot = {
    type: "azure-native:compute:VirtualMachineScaleSet",
    name: "workers-vmss",
    urn: URN,
    inputs: { orchestrationMode: "Uniform", virtualMachineProfile: profile },
    outputs: {},
  };
  const found = await evaluatePolicies([spotSettingsAccepted], [vmss]);
  for (const v of found) assert.equal(v.policyName, "spot-and-terminate-notification-accepted");
  return found.map((v) => v.message);
}

describe("policy pack: spot-and-terminate-notification-accepted", () => {
  it("is in the pack, mandatory", () => {
    const rule = policies.find((p) => p.name === "spot-and-terminate-notification-accepted");
    assert.equal(rule?.enforcementLevel, "mandatory");
  });

  it("passes a Spot scale set, a Regular one with a notice, one with neither, and Spot with a five-decimal price", async () => {
    assert.deepEqual(await violations(spotProfile()), []);
    assert.deepEqual(await violations(noticedProfile()), []);
    assert.deepEqual(await violations({}), []);
    assert.deepEqual(await violations({ ...spotProfile(), billingProfile: { maxPrice: 0.00001 } }), []);
  });

  const cases: Array<[string, () => Record<string, any>, RegExp]> = [
    [
      "a Spot scale set gets a terminate notification",
      () => ({ ...spotProfile(), ...noticedProfile() }),
      /"Terminate notifications cannot be enabled on Spot instances"/,
    ],
    [
      "the retired Low priority gets a terminate notification",
      () => ({ ...spotProfile(), priority: "Low", ...noticedProfile() }),
      /priority is "Low" .*cannot be enabled on Spot/,
    ],
    [
      "a Regular scale set gets an eviction policy",
      () => ({ evictionPolicy: "Delete" }),
      /EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines/,
    ],
    [
      "a Regular scale set gets a max price",
      () => ({ priority: "Regular", billingProfile: { maxPrice: 0.05 } }),
      /priority is "Regular" and billingProfile\.maxPrice is set: .*MaxPriceIsSupportedOnlyForAzureSpotVirtualMachines/,
    ],
    [
      "the max price has six decimals",
      () => ({ ...spotProfile(), billingProfile: { maxPrice: 0.000001 } }),
      /MaxPriceValueInvalid/,
    ],
    ["the max price is 0", () => ({ ...spotProfile(), billingProfile: { maxPrice: 0 } }), /MaxPriceValueInvalid/],
    [
      "the notice is 20 minutes",
      () => ({ scheduledEventsProfile: { terminateNotificationProfile: { enable: true, notBeforeTimeout: "PT20M" } } }),
      /notBeforeTimeout is "PT20M": Azure takes an ISO 8601 duration from PT5M to PT15M/,
    ],
  ];
  for (const [what, profile, reason] of cases) {
    it(`reports it when ${what}`, async () => {
      const got = await violations(profile());
      assert.equal(got.length, 1, got.join("\n"));
      assert.match(got[0], reason);
    });
  }

  it("lets a disabled notice of any length pass, and skips what a preview does not know", async () => {
    assert.deepEqual(
      await violations({
        ...spotProfile(),
        scheduledEventsProfile: { terminateNotificationProfile: { enable: false, notBeforeTimeout: "PT1M" } },
      }),
      [],
    );
  });
});
