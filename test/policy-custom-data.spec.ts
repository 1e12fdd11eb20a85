/**
 * What custom data may hold, one changed field per case: its size against the platform limit and the
 * soft budget, and no secrets (reported by kind, never echoing the value).
 */
import * as assert from "assert";
import { MAX_CUSTOM_DATA_BYTES } from "../components/defaults";
import { DEFAULT_CUSTOM_DATA_SOFT_BUDGET_BYTES } from "../policy/scaleSetChecks";
import { OneViolationCase, assertOnlyViolation, b64, cloudInit, evaluate, names } from "../testkit/policyStacks";

describe("policy pack: one changed field, exactly one violation", () => {
  const cases: OneViolationCase[] = [
    [
      "custom data is over the platform limit",
      "custom-data-platform-limit",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({ filler: `# ${"x".repeat(MAX_CUSTOM_DATA_BYTES)}\n` }),
        )),
    ],
    [
      "custom data is not base64",
      "custom-data-platform-limit",
      (m) => (m.vmss.virtualMachineProfile.osProfile.customData = cloudInit()),
    ],
    [
      "custom data is over the soft budget",
      "custom-data-soft-budget",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({ filler: `# ${"x".repeat(DEFAULT_CUSTOM_DATA_SOFT_BUDGET_BYTES)}\n` }),
        )),
    ],
  ];
  for (const [what, policy, change, delivery] of cases) {
    it(`reports ${policy} when ${what}`, () => assertOnlyViolation(policy, change, delivery));
  }

  const secrets: [string, string][] = [
    [
      "a private key",
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----",
    ],
    [
      "a storage account key",
      "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zml4dHVyZS1rZXktZml4dHVyZS1rZXktZml4dHVyZS1rZXk=;EndpointSuffix=core.windows.net",
    ],
    [
      "a SAS signature",
      "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2030-01-01&sp=r&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2B%3D",
    ],
    ["a password", "DB_PASSWORD=hunter2hunter2"],
  ];
  for (const [kind, secret] of secrets) {
    it(`reports custom-data-no-secrets when custom data carries ${kind}, naming the kind but not the value`, async () => {
      const vs = await evaluate(
        (m) =>
          (m.vmss.virtualMachineProfile.osProfile.customData = b64(
            cloudInit({ extraFiles: [{ path: "/etc/worker.env", content: b64(secret), encoding: "b64" }] }),
          )),
      );
      assert.deepStrictEqual(names(vs), ["custom-data-no-secrets"]);
      assert.match(vs[0].message, new RegExp(kind));
      assert.ok(!vs[0].message.includes(secret.slice(-12)), "the message must not echo the secret");
    });
  }

  it("reports custom-data-no-secrets for a cloud-init user password", async () => {
    const text = cloudInit().replace(
      "#cloud-config\n",
      "#cloud-config\nusers:\n  - name: ops\n    plain_text_passwd: letmein123\n",
    );
    const vs = await evaluate((m) => (m.vmss.virtualMachineProfile.osProfile.customData = b64(text)));
    assert.deepStrictEqual(names(vs), ["custom-data-no-secrets"]);
  });
});
