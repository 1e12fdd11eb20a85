/**
 * The policy pack on the happy stack (testkit/policyStacks.ts): a WorkerScaleSet's scale set and Reader
 * assignment as the component ships them pass every rule, in each delivery mode and custom data encoding.
 */
import * as assert from "assert";
import { DeliveryMode, renderCustomData } from "../components";
import { b64, cloudInit, evaluate, gzb64 } from "../testkit/policyStacks";

describe("policy pack: the happy stack", () => {
  it("passes every policy for a systemd-delivered scale set", async () => {
    assert.deepStrictEqual(await evaluate(), []);
  });

  it("passes every policy for a Custom Script Extension that writes the kept file and starts the launcher's unit", async () => {
    assert.deepStrictEqual(await evaluate(() => {}, undefined, "customScript"), []);
  });

  it("passes a scale set that does not overprovision and ships no waiter", async () => {
    const vs = await evaluate((m) => {
      m.vmss.overprovision = false;
      m.vmss.virtualMachineProfile.osProfile.customData = b64(
        "#cloud-config\nruncmd:\n  - [sh, -c, 'nohup /usr/local/bin/worker &']\n",
      );
    });
    assert.deepStrictEqual(vs, []);
  });

  it("passes custom data that also starts units it does not write, or runs other commands", async () => {
    const vs = await evaluate(
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({ extraRuncmd: [["systemctl", "restart", "ssh"], "apt-get install -y htop", "echo worker"] }),
        )),
    );
    assert.deepStrictEqual(vs, []);
  });

  for (const delivery of Object.values(DeliveryMode)) {
    it(`passes what renderCustomData ships in ${delivery} mode, even for a one-letter worker command`, async () => {
      const text = renderCustomData({ delivery, workerCommand: "w", agentBundle: "// waiter" });
      const vs = await evaluate(
        (m) => (m.vmss.virtualMachineProfile.osProfile.customData = b64(text)),
        undefined,
        delivery === DeliveryMode.CustomScript ? "customScript" : "systemd",
      );
      assert.deepStrictEqual(vs, []);
    });
  }

  it("passes gzip-compressed custom data that ships the waiter", async () => {
    assert.deepStrictEqual(
      await evaluate((m) => (m.vmss.virtualMachineProfile.osProfile.customData = gzb64(cloudInit()))),
      [],
    );
  });
});
