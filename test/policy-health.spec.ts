/**
 * The health rules, one changed field per case: automatic repairs need a health source, and the
 * Application Health extension must probe the worker's shipped health endpoint.
 */
import { DEFAULT_HEALTH_PORT, HEALTH_SOCKET_UNIT, healthExtension } from "../components";
import { Model, OneViolationCase, assertOnlyViolation, b64, cloudInit } from "../testkit/policyStacks";

/**
 * The model with the component's health endpoint in its custom data and an Application Health
 * extension whose settings are the component's, changed by `settings` (and its version).
 */
function withHealth(m: Model, settings: Record<string, unknown>, typeHandlerVersion = "2.0"): void {
  const port = DEFAULT_HEALTH_PORT;
  m.vmss.virtualMachineProfile.osProfile.customData = b64(
    cloudInit({
      extraFiles: [
        {
          path: `/etc/systemd/system/${HEALTH_SOCKET_UNIT}`,
          content: `[Socket]\nListenStream=127.0.0.1:${port}\n`,
          permissions: "0644",
        },
      ],
    }),
  );
  const ext = healthExtension({ port });
  const kept = m.vmss.virtualMachineProfile.extensionProfile?.extensions ?? [];
  m.vmss.virtualMachineProfile.extensionProfile = {
    extensions: [...kept, { ...ext, typeHandlerVersion, settings: { ...ext.settings, ...settings } }],
  };
}

describe("policy pack: one changed field, exactly one violation", () => {
  const cases: OneViolationCase[] = [
    [
      "automatic repairs are on without a health source",
      "automatic-repairs-need-health-source",
      (m) => (m.vmss.automaticRepairsPolicy = { enabled: true, gracePeriod: "PT10M", repairAction: "Replace" }),
    ],
    [
      "the Application Health extension probes another port than the shipped endpoint's",
      "health-probe-sees-worker",
      (m) => withHealth(m, { port: 9999 }),
    ],
    [
      "the Application Health extension probes over tcp, which cannot see the worker",
      "health-probe-sees-worker",
      (m) => withHealth(m, { protocol: "tcp", requestPath: undefined }),
    ],
    [
      "the Application Health extension is 1.0 (Binary Health States)",
      "health-probe-sees-worker",
      (m) => withHealth(m, {}, "1.0"),
    ],
  ];
  for (const [what, policy, change, delivery] of cases) {
    it(`reports ${policy} when ${what}`, () => assertOnlyViolation(policy, change, delivery));
  }
});
