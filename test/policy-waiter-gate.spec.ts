/**
 * overprovisioning-gated-by-waiter, one changed field per case: every way custom data or an extension
 * could start the worker on an overprovisioned extra, around the waiter and its kept-file proof.
 */
import { KEPT_FILE_PATH, WAITER_PATH, WORKER_COMMAND_PATH } from "../components/defaults";
import {
  KEPT_PROOF,
  OneViolationCase,
  WORKER_COMMAND,
  assertOnlyViolation,
  b64,
  cloudInit,
} from "../testkit/policyStacks";

const PER_BOOT_SCRIPT = "/var/lib/cloud/scripts/per-boot/start-worker";

describe("policy pack: one changed field, exactly one violation", () => {
  const cases: OneViolationCase[] = [
    [
      "custom data starts the worker without the waiter",
      "overprovisioning-gated-by-waiter",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({ waiter: false, extraRuncmd: ["nohup /usr/local/bin/worker &"] }),
        )),
    ],
    [
      "overprovision is unset (platform default true) and custom data has no waiter",
      "overprovisioning-gated-by-waiter",
      (m) => {
        delete m.vmss.overprovision;
        m.vmss.virtualMachineProfile.osProfile.customData = b64("#!/bin/sh\n/usr/local/bin/worker &\n");
      },
    ],
    [
      "the CSE command bypasses the waiter and runs on the extra VMs",
      "overprovisioning-gated-by-waiter",
      (m) => {
        m.vmss.doNotRunExtensionsOnOverprovisionedVMs = false;
        m.vmss.virtualMachineProfile.extensionProfile.extensions[0].protectedSettings = {
          commandToExecute: `${KEPT_PROOF}; nohup /usr/local/bin/worker &`,
        };
        delete m.vmss.virtualMachineProfile.extensionProfile.extensions[0].settings;
      },
      "customScript",
    ],
    [
      "the waiter runs without --kept-file, so an extra's brief Succeeded starts the worker",
      "overprovisioning-gated-by-waiter",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit().replace(` --kept-file ${KEPT_FILE_PATH}`, ""),
        )),
    ],
    [
      "the kept-proof extension also runs on the extras (doNotRunExtensionsOnOverprovisionedVMs false)",
      "overprovisioning-gated-by-waiter",
      (m) => (m.vmss.doNotRunExtensionsOnOverprovisionedVMs = false),
    ],
    [
      "the kept-proof extension runs on the extras too with its customScript start (doNotRunExtensionsOnOverprovisionedVMs unset)",
      "overprovisioning-gated-by-waiter",
      (m) => delete m.vmss.doNotRunExtensionsOnOverprovisionedVMs,
      "customScript",
    ],
    [
      "nothing writes the kept file, so no worker ever starts",
      "overprovisioning-gated-by-waiter",
      (m) => delete m.vmss.virtualMachineProfile.extensionProfile,
    ],
    [
      "custom data ships the waiter but a runcmd also runs the worker command",
      "overprovisioning-gated-by-waiter",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({ extraRuncmd: [["sh", "-c", `nohup ${WORKER_COMMAND} &`]] }),
        )),
    ],
    [
      "custom data ships the waiter but a per-boot script also runs the worker command file",
      "overprovisioning-gated-by-waiter",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({
            extraFiles: [
              {
                path: PER_BOOT_SCRIPT,
                content: `#!/bin/sh\nsh -c "$(cat ${WORKER_COMMAND_PATH})" &\n`,
                permissions: "0755",
              },
            ],
          }),
        )),
    ],
    [
      "custom data ships the waiter but also starts a unit of its own that bypasses the launcher",
      "overprovisioning-gated-by-waiter",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({
            extraFiles: [
              {
                path: "/etc/systemd/system/worker-now.service",
                content: b64(`[Service]\nExecStart=/bin/sh -c 'exec ${WORKER_COMMAND}'\n`),
                encoding: "b64",
                permissions: "0644",
              },
            ],
            extraRuncmd: ["systemctl daemon-reload && systemctl start --no-block worker-now"],
          }),
        )),
    ],
    [
      "custom data ships the waiter but a unit of its own runs a script that names the waiter and runs the worker command",
      "overprovisioning-gated-by-waiter",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({
            extraFiles: [
              {
                path: "/usr/local/bin/sneaky",
                content: `#!/bin/sh\nnode ${WAITER_PATH} drain-watcher &\nexec sh -c "$(cat ${WORKER_COMMAND_PATH})"\n`,
                permissions: "0755",
              },
              {
                path: "/etc/systemd/system/sneaky.service",
                content: `[Service]\nExecStart=/usr/local/bin/sneaky\n`,
                permissions: "0644",
              },
            ],
            extraRuncmd: [["systemctl", "enable", "--now", "--no-block", "sneaky.service"]],
          }),
        )),
    ],
    [
      "custom data ships the waiter but also enables a socket whose service bypasses the launcher",
      "overprovisioning-gated-by-waiter",
      (m) =>
        (m.vmss.virtualMachineProfile.osProfile.customData = b64(
          cloudInit({
            extraFiles: [
              {
                path: "/etc/systemd/system/worker-now.socket",
                content: "[Socket]\nListenStream=127.0.0.1:4000\nService=worker-run.service\n",
                permissions: "0644",
              },
              {
                path: "/etc/systemd/system/worker-run.service",
                content: `[Service]\nExecStart=/bin/sh -c 'exec ${WORKER_COMMAND}'\n`,
                permissions: "0644",
              },
            ],
            extraRuncmd: [["systemctl", "enable", "--now", "--no-block", "worker-now.socket"]],
          }),
        )),
    ],
  ];
  for (const [what, policy, change, delivery] of cases) {
    it(`reports ${policy} when ${what}`, () => assertOnlyViolation(policy, change, delivery));
  }
});
