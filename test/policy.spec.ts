/**
 * The policy pack, rule by rule: one happy stack (a WorkerScaleSet's scale set and Reader assignment,
 * written out literally), then one field changed per test and exactly one violation expected.
 * Rules run through policy/evaluate.ts, which builds the analyzer's arguments as @pulumi/policy does.
 */
import * as assert from "assert";
import * as zlib from "zlib";
import * as YAML from "yaml";
import {
  KEPT_FILE_PATH,
  LAUNCHER_PATH,
  MAX_CUSTOM_DATA_BYTES,
  READER_ROLE_DEFINITION_GUID,
  WAITER_PATH,
  WORKER_COMMAND_PATH,
  WORKER_UNIT,
} from "../components/defaults";
import {
  DEFAULT_HEALTH_PORT,
  DeliveryMode,
  HEALTH_SOCKET_UNIT,
  healthExtension,
  renderCustomData,
} from "../components";
import { decodeCustomData } from "../policy/customData";
import { PolicyConfigInput, ResourceSnapshot, Violation, evaluatePolicies, hasMandatory } from "../policy/evaluate";
import { PACK_NAME, policies, resourcePolicies, stackPolicies } from "../policy/policies";
import { checkAssignmentPrincipalType, checkAssignmentRole, checkAssignmentScope, scopeKind } from "../policy/rbac";
import { CONTRIBUTOR_ROLE_DEFINITION_GUID as CONTRIBUTOR_GUID } from "../policy/roles";
import { DEFAULT_CUSTOM_DATA_SOFT_BUDGET_BYTES } from "../policy/scaleSetChecks";
import { findSecrets } from "../policy/secrets";
import { proxyInternals } from "../policy/unknowns";
import { RunningPolicyPack, startPolicyPack } from "../testkit/policyPackProcess";

const SUB = "00000000-0000-0000-0000-000000000001";
const RG_ID = `/subscriptions/${SUB}/resourceGroups/hpc-test-rg`;
const VMSS_ID = `${RG_ID}/providers/Microsoft.Compute/virtualMachineScaleSets/workers-vmss`;
const PRINCIPAL = "11111111-2222-3333-4444-000000000001";
const READER_ID = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_DEFINITION_GUID}`;
const UNIT_PATH = `/etc/systemd/system/${WORKER_UNIT}`;
/** What the engine puts in place of a string it cannot know during a preview. */
const UNKNOWN_STRING = proxyInternals.unknownStringValue as string;

const URN = {
  stack: "urn:pulumi:test::hpc-workers::pulumi:pulumi:Stack::hpc-workers-test",
  rg: "urn:pulumi:test::hpc-workers::azure-native:resources:ResourceGroup::hpc-test-rg",
  component: "urn:pulumi:test::hpc-workers::hpc-workers:index:WorkerScaleSet::workers",
  vmss: "urn:pulumi:test::hpc-workers::hpc-workers:index:WorkerScaleSet$azure-native:compute:VirtualMachineScaleSet::workers-vmss",
  reader:
    "urn:pulumi:test::hpc-workers::hpc-workers:index:WorkerScaleSet$azure-native:authorization:RoleAssignment::workers-reader",
};

const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");
const gzb64 = (text: string) => zlib.gzipSync(Buffer.from(text)).toString("base64");

const WORKER_COMMAND = "/usr/local/bin/worker --queue jobs";
const PER_BOOT_SCRIPT = "/var/lib/cloud/scripts/per-boot/start-worker";

/** A cloud-init document shaped like renderCustomData's: waiter, launcher, worker command and unit. */
function cloudInit(
  opts: { waiter?: boolean; extraRuncmd?: (string | string[])[]; extraFiles?: object[]; filler?: string } = {},
): string {
  const files: object[] = [];
  if (opts.waiter !== false) {
    files.push({
      path: WAITER_PATH,
      content: gzb64("/* waiter bundle */ process.exit(0);"),
      encoding: "gz+b64",
      permissions: "0644",
    });
    files.push({
      path: LAUNCHER_PATH,
      content: `#!/bin/sh\nnode ${WAITER_PATH} --kept-file ${KEPT_FILE_PATH} || exit $?\nexec /bin/sh -c "$(cat /etc/hpc-workers/worker-command)"\n`,
      permissions: "0755",
    });
    files.push({ path: WORKER_COMMAND_PATH, content: b64(WORKER_COMMAND), encoding: "b64", permissions: "0644" });
    files.push({ path: UNIT_PATH, content: `[Service]\nType=exec\nExecStart=${LAUNCHER_PATH}\n`, permissions: "0644" });
  }
  files.push(...(opts.extraFiles ?? []));
  const doc: Record<string, unknown> = { packages: ["nodejs"], write_files: files };
  doc.runcmd = [["systemctl", "enable", "--now", "--no-block", WORKER_UNIT], ...(opts.extraRuncmd ?? [])];
  return `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}${opts.filler ?? ""}`;
}

/** The kept proof as the platform runs it on kept VMs only: this VM's IMDS vmId into the kept file. */
const KEPT_PROOF = `mkdir -p /var/lib/hpc-workers && curl -sf -H Metadata:true 'http://169.254.169.254/metadata/instance/compute/vmId?api-version=2021-02-01&format=text' > ${KEPT_FILE_PATH}`;
const CSE_VIA_UNIT = `${KEPT_PROOF} && systemd-run --no-block --collect --property=After=cloud-final.service /bin/systemctl start --no-block ${WORKER_UNIT}`;

interface Model {
  vmss: Record<string, any>;
  /** The scale set's outputs on top of its inputs (the identity's principalId, the id). */
  vmssOutputs: Record<string, any>;
  reader?: Record<string, any>;
  readerPropertyDependencies: Record<string, string[]>;
}

function happyModel(delivery: "systemd" | "customScript" = "systemd"): Model {
  return {
    vmss: {
      resourceGroupName: "hpc-test-rg",
      orchestrationMode: "Uniform",
      identity: { type: "SystemAssigned" },
      sku: { name: "Standard_D2s_v5", tier: "Standard", capacity: 2 },
      overprovision: true,
      doNotRunExtensionsOnOverprovisionedVMs: true,
      upgradePolicy: { mode: "Manual" },
      virtualMachineProfile: {
        osProfile: {
          computerNamePrefix: "workers",
          adminUsername: "azureuser",
          customData: b64(cloudInit()),
          linuxConfiguration: {
            disablePasswordAuthentication: true,
            ssh: {
              publicKeys: [
                {
                  path: "/home/azureuser/.ssh/authorized_keys",
                  keyData: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG test",
                },
              ],
            },
          },
        },
        extensionProfile: {
          extensions: [
            {
              name: delivery === "customScript" ? "hpc-worker-start" : "hpc-worker-kept",
              publisher: "Microsoft.Azure.Extensions",
              type: "CustomScript",
              typeHandlerVersion: "2.1",
              settings: { commandToExecute: delivery === "customScript" ? CSE_VIA_UNIT : KEPT_PROOF },
            },
          ],
        },
      },
    },
    vmssOutputs: { id: VMSS_ID, identity: { type: "SystemAssigned", principalId: PRINCIPAL } },
    reader: { principalId: PRINCIPAL, principalType: "ServicePrincipal", roleDefinitionId: READER_ID, scope: RG_ID },
    readerPropertyDependencies: { principalId: [URN.vmss], scope: [URN.rg] },
  };
}

const ADVISORY_POLICIES = [
  "custom-data-soft-budget",
  "automatic-repairs-need-health-source",
  "health-probe-sees-worker",
];

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

function snapshots(m: Model): ResourceSnapshot[] {
  const vmssOutputs = {
    ...m.vmss,
    ...m.vmssOutputs,
    identity: m.vmss.identity ? { ...m.vmss.identity, ...m.vmssOutputs.identity } : undefined,
  };
  const out: ResourceSnapshot[] = [
    { type: "pulumi:pulumi:Stack", name: "hpc-workers-test", urn: URN.stack, inputs: {}, outputs: {} },
    {
      type: "azure-native:resources:ResourceGroup",
      name: "hpc-test-rg",
      urn: URN.rg,
      parent: URN.stack,
      inputs: { location: "westeurope" },
      outputs: { id: RG_ID },
    },
    {
      type: "hpc-workers:index:WorkerScaleSet",
      name: "workers",
      urn: URN.component,
      parent: URN.stack,
      inputs: {},
      outputs: {},
    },
    {
      type: "azure-native:compute:VirtualMachineScaleSet",
      name: "workers-vmss",
      urn: URN.vmss,
      parent: URN.component,
      inputs: m.vmss,
      outputs: vmssOutputs,
      dependencies: [URN.rg],
    },
  ];
  if (m.reader) {
    out.push({
      type: "azure-native:authorization:RoleAssignment",
      name: "workers-reader",
      urn: URN.reader,
      parent: URN.component,
      inputs: m.reader,
      dependencies: [URN.vmss, URN.rg],
      propertyDependencies: m.readerPropertyDependencies,
    });
  }
  return out;
}

async function evaluate(
  change: (m: Model) => void = () => {},
  config?: PolicyConfigInput,
  delivery?: "systemd" | "customScript",
): Promise<Violation[]> {
  const m = happyModel(delivery);
  change(m);
  return evaluatePolicies(policies, snapshots(m), { config });
}

const names = (vs: Violation[]) => vs.map((v) => v.policyName);

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

describe("policy pack: one changed field, exactly one violation", () => {
  const cases: [string, string, (m: Model) => void, ("systemd" | "customScript")?][] = [
    ["the identity is removed", "waiter-scale-set-identity-and-orchestration", (m) => delete m.vmss.identity],
    [
      "the identity is UserAssigned only",
      "waiter-scale-set-identity-and-orchestration",
      (m) => (m.vmss.identity = { type: "UserAssigned" }),
    ],
    [
      "orchestration is Flexible",
      "waiter-scale-set-identity-and-orchestration",
      (m) => (m.vmss.orchestrationMode = "Flexible"),
    ],
    [
      "orchestrationMode is left unset",
      "waiter-scale-set-identity-and-orchestration",
      (m) => delete m.vmss.orchestrationMode,
    ],
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
    [
      "password authentication is enabled",
      "linux-ssh-key-only",
      (m) => (m.vmss.virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication = false),
    ],
    [
      "an admin password is set",
      "linux-ssh-key-only",
      (m) => (m.vmss.virtualMachineProfile.osProfile.adminPassword = "S3cret-Passw0rd"),
    ],
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
    [
      "the role is Contributor",
      "role-assignment-reader-only",
      (m) => (m.reader!.roleDefinitionId = READER_ID.replace(READER_ROLE_DEFINITION_GUID, CONTRIBUTOR_GUID)),
    ],
    [
      "the scope is the subscription",
      "role-assignment-scope-resource-group-or-narrower",
      (m) => (m.reader!.scope = `/subscriptions/${SUB}`),
    ],
    [
      "the scope is a management group",
      "role-assignment-scope-resource-group-or-narrower",
      (m) => (m.reader!.scope = "/providers/Microsoft.Management/managementGroups/corp"),
    ],
    [
      "the scope is the tenant root",
      "role-assignment-scope-resource-group-or-narrower",
      (m) => (m.reader!.scope = "/"),
    ],
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
    ["principalType is User", "role-assignment-service-principal-type", (m) => (m.reader!.principalType = "User")],
    ["principalType is unset", "role-assignment-service-principal-type", (m) => delete m.reader!.principalType],
    ["the Reader assignment is missing", "waiter-scale-set-has-reader", (m) => delete m.reader],
    [
      "the Reader assignment is on another resource group",
      "waiter-scale-set-has-reader",
      (m) => (m.reader!.scope = `/subscriptions/${SUB}/resourceGroups/elsewhere`),
    ],
  ];
  for (const [what, policy, change, delivery] of cases) {
    it(`reports ${policy} when ${what}`, async () => {
      const vs = await evaluate(change, undefined, delivery);
      assert.deepStrictEqual(names(vs), [policy], vs.map((v) => v.message).join("\n"));
      const expectedLevel = ADVISORY_POLICIES.includes(policy) ? "advisory" : "mandatory";
      assert.strictEqual(vs[0].enforcementLevel, expectedLevel);
    });
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

describe("policy pack: configuration", () => {
  it("accepts an allow-listed role from the policy config", async () => {
    const vs = await evaluate(
      (m) => (m.reader!.roleDefinitionId = READER_ID.replace(READER_ROLE_DEFINITION_GUID, CONTRIBUTOR_GUID)),
      {
        "role-assignment-reader-only": { allowedRoleDefinitionIds: [READER_ROLE_DEFINITION_GUID, CONTRIBUTOR_GUID] },
      },
    );
    assert.deepStrictEqual(vs, []);
  });

  it("uses the configured soft budget instead of the default", async () => {
    const vs = await evaluate(() => {}, { "custom-data-soft-budget": { maxBytes: 100 } });
    assert.deepStrictEqual(names(vs), ["custom-data-soft-budget"]);
    assert.match(vs[0].message, /soft budget of 100\b/);
  });

  it("honours an enforcement level from config, and disabled turns a rule off", async () => {
    const contributor = (m: Model) =>
      (m.reader!.roleDefinitionId = READER_ID.replace(READER_ROLE_DEFINITION_GUID, CONTRIBUTOR_GUID));
    const advisory = await evaluate(contributor, { "role-assignment-reader-only": "advisory" });
    assert.deepStrictEqual(
      advisory.map((v) => v.enforcementLevel),
      ["advisory"],
    );
    assert.strictEqual(hasMandatory(advisory), false);
    assert.deepStrictEqual(
      await evaluate(contributor, { "role-assignment-reader-only": { enforcementLevel: "disabled" } }),
      [],
    );
  });
});

describe("policy pack: unknown values during a preview", () => {
  it("links an assignment whose principalId is unknown through its property dependency, and still checks the role", async () => {
    const vs = await evaluate((m) => {
      m.reader!.principalId = UNKNOWN_STRING;
      m.vmssOutputs.identity.principalId = UNKNOWN_STRING;
      m.reader!.roleDefinitionId = READER_ID.replace(READER_ROLE_DEFINITION_GUID, CONTRIBUTOR_GUID);
    });
    assert.deepStrictEqual(names(vs), ["role-assignment-reader-only"]);
  });

  it("does not throw on an undefined principalId and links the assignment through its component parent", async () => {
    const vs = await evaluate((m) => {
      delete m.reader!.principalId;
      m.readerPropertyDependencies = {};
    });
    assert.deepStrictEqual(vs, []);
  });

  it("skips checks of unknown scope, role, custom data and overprovision without a can't-run advisory", async () => {
    const vs = await evaluate((m) => {
      m.reader!.scope = UNKNOWN_STRING;
      m.reader!.roleDefinitionId = UNKNOWN_STRING;
      m.reader!.principalType = UNKNOWN_STRING;
      m.vmss.overprovision = UNKNOWN_STRING;
      m.vmss.virtualMachineProfile.osProfile.customData = UNKNOWN_STRING;
      m.vmssOutputs.identity.principalId = UNKNOWN_STRING;
      m.vmssOutputs.id = UNKNOWN_STRING;
    });
    assert.deepStrictEqual(vs, []);
  });

  it("does not check an assignment whose known principal is not a scale set's", async () => {
    const vs = await evaluate((m) => {
      m.reader!.principalId = "99999999-0000-0000-0000-000000000009";
      m.reader!.roleDefinitionId = READER_ID.replace(READER_ROLE_DEFINITION_GUID, CONTRIBUTOR_GUID);
      m.readerPropertyDependencies = {};
      m.vmssOutputs.id = VMSS_ID;
    });
    // The user's own Contributor grant is not this pack's business; the scale set now lacks a Reader.
    assert.deepStrictEqual(names(vs), ["waiter-scale-set-has-reader"]);
  });

  it("the role assignment checks accept undefined and unknown values without throwing", () => {
    for (const props of [
      {},
      { principalId: undefined },
      { principalId: UNKNOWN_STRING, scope: UNKNOWN_STRING, roleDefinitionId: UNKNOWN_STRING },
    ]) {
      assert.deepStrictEqual(checkAssignmentRole(props, [READER_ROLE_DEFINITION_GUID]), []);
      assert.deepStrictEqual(checkAssignmentScope(props), []);
    }
    assert.strictEqual(checkAssignmentPrincipalType({ principalType: UNKNOWN_STRING }).length, 0);
  });
});

describe("policy pack: metadata and helpers", () => {
  it("names every policy in kebab-case, once, with a one-sentence description and an explicit level", () => {
    const seen = new Set<string>();
    for (const p of policies) {
      assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(!seen.has(p.name), `duplicate ${p.name}`);
      seen.add(p.name);
      assert.match(p.description, /^[A-Z][^]*\.$/);
      assert.ok(p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory", p.name);
      assert.ok(
        !("enforcementLevel" in (p.configSchema?.properties ?? {})),
        "enforcementLevel is reserved in configSchema",
      );
    }
    assert.strictEqual(policies.length, resourcePolicies.length + stackPolicies.length);
    assert.strictEqual(policies.length, 13);
    assert.strictEqual(PACK_NAME, "hpc-workers");
  });

  it("finds literal secrets but not boolean settings or variable references", () => {
    assert.deepStrictEqual(
      findSecrets("disable_password: true\npassword: $DB_PASSWORD\nusers:\n  - lock_passwd: true\nssh_pwauth: false\n"),
      [],
    );
    assert.deepStrictEqual(findSecrets("x\nmysql --password=abc123 db"), [
      "a password (line 2)",
      "a password flag (line 2)",
    ]);
  });

  it("classifies role assignment scopes", () => {
    assert.strictEqual(scopeKind("/"), "root");
    assert.strictEqual(scopeKind("/providers/Microsoft.Management/managementGroups/mg"), "managementGroup");
    assert.strictEqual(scopeKind(`/subscriptions/${SUB}/`), "subscription");
    assert.strictEqual(scopeKind(RG_ID), "resourceGroup");
    assert.strictEqual(scopeKind(VMSS_ID), "resource");
  });

  it("measures custom data decoded, and reads gzip", () => {
    const text = cloudInit();
    const plain = decodeCustomData(b64(text));
    assert.strictEqual(plain.bytes, Buffer.byteLength(text));
    assert.strictEqual(plain.gzip, false);
    const gz = decodeCustomData(gzb64(text));
    assert.strictEqual(gz.gzip, true);
    assert.strictEqual(gz.text, text);
    assert.ok(gz.bytes < plain.bytes);
  });
});

/**
 * The pack as `pulumi preview --policy-pack policy` runs it: policy/ started through run-policy-pack
 * in its own process, serving the analyzer over gRPC. This drives the real @pulumi/policy server (its
 * proxy, its config handling, its diagnostics), which the in-process evaluator only imitates.
 */
describe("policy pack: served over gRPC as the Pulumi CLI runs it", function () {
  this.timeout(60_000);
  const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
  const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
  const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
  const POLICY_DIR = require("path").resolve(__dirname, "..", "policy");
  const MANDATORY = analyzerPb.EnforcementLevel.MANDATORY;

  let pack: RunningPolicyPack;
  const call = <T>(method: string, req: unknown): Promise<T> => pack.call<T>(method, req);

  before(async () => {
    pack = await startPolicyPack(POLICY_DIR);
  });

  after(() => pack?.stop());

  const options = () => new analyzerPb.AnalyzerResourceOptions();
  const struct = (props: object) => Struct.fromJavaScript(JSON.parse(JSON.stringify(props)));
  const diagnostics = (resp: any) =>
    resp
      .getDiagnosticsList()
      .map((d: any) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage() }));

  async function analyze(snapshot: ResourceSnapshot) {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(snapshot.type);
    req.setName(snapshot.name);
    req.setUrn(snapshot.urn);
    req.setProperties(struct(snapshot.inputs));
    req.setOptions(options());
    return diagnostics(await call("analyze", req));
  }

  async function analyzeStack(stack: ResourceSnapshot[]) {
    const req = new analyzerPb.AnalyzeStackRequest();
    req.setResourcesList(
      stack.map((s) => {
        const r = new analyzerPb.AnalyzerResource();
        r.setType(s.type);
        r.setName(s.name);
        r.setUrn(s.urn);
        r.setProperties(struct(s.outputs ?? s.inputs));
        r.setOptions(options());
        if (s.parent) r.setParent(s.parent);
        r.setDependenciesList(s.dependencies ?? []);
        for (const [k, urns] of Object.entries(s.propertyDependencies ?? {})) {
          const deps = new analyzerPb.AnalyzerPropertyDependencies();
          deps.setUrnsList(urns);
          r.getPropertydependenciesMap().set(k, deps);
        }
        return r;
      }),
    );
    return diagnostics(await call("analyzeStack", req));
  }

  it("announces the pack's name and every policy with its config schema", async () => {
    const info: any = await call("getAnalyzerInfo", new Empty());
    assert.strictEqual(info.getName(), PACK_NAME);
    assert.deepStrictEqual(
      info
        .getPoliciesList()
        .map((p: any) => p.getName())
        .sort(),
      policies.map((p) => p.name).sort(),
    );
  });

  it("passes the happy stack, resource by resource and as a stack, with the principal unknown as in a preview", async () => {
    const m = happyModel();
    m.reader!.principalId = UNKNOWN_STRING;
    m.vmssOutputs.identity.principalId = UNKNOWN_STRING;
    const stack = snapshots(m);
    for (const s of stack) assert.deepStrictEqual(await analyze(s), [], s.name);
    assert.deepStrictEqual(await analyzeStack(stack), []);
  });

  it("reports a resource rule with its level and reason", async () => {
    const m = happyModel();
    m.vmss.virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication = false;
    const found = await analyze(snapshots(m).find((s) => s.name === "workers-vmss")!);
    assert.deepStrictEqual(
      found.map((d: any) => [d.policy, d.level]),
      [["linux-ssh-key-only", MANDATORY]],
    );
    assert.match(found[0].message, /disablePasswordAuthentication: true/);
  });

  it("reports a stack rule on an assignment linked only through its property dependency", async () => {
    const m = happyModel();
    m.reader!.principalId = UNKNOWN_STRING;
    m.vmssOutputs.identity.principalId = UNKNOWN_STRING;
    m.reader!.roleDefinitionId = READER_ID.replace(READER_ROLE_DEFINITION_GUID, CONTRIBUTOR_GUID);
    const found = await analyzeStack(snapshots(m));
    assert.deepStrictEqual(
      found.map((d: any) => [d.policy, d.level]),
      [["role-assignment-reader-only", MANDATORY]],
    );
  });

  it("reads policy config sent by the CLI", async () => {
    const req = new analyzerPb.ConfigureAnalyzerRequest();
    const cfg = new analyzerPb.PolicyConfig();
    cfg.setEnforcementlevel(analyzerPb.EnforcementLevel.ADVISORY);
    cfg.setProperties(struct({ maxBytes: 100 }));
    req.getPolicyconfigMap().set("custom-data-soft-budget", cfg);
    await call("configure", req);
    const found = await analyze(snapshots(happyModel()).find((s) => s.name === "workers-vmss")!);
    assert.deepStrictEqual(
      found.map((d: any) => d.policy),
      ["custom-data-soft-budget"],
    );
    assert.match(found[0].message, /soft budget of 100\b/);
  });
});
