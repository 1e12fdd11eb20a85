import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_ADMIN_USERNAME,
  DeliveryMode,
  KEPT_FILE_PATH,
  LAUNCHER_PATH,
  NODE_INSTALLER_PATH,
  NODE_INSTALL_UNIT_PATH,
  READER_ROLE_DEFINITION_GUID,
  WAITER_PATH,
  WORKER_COMMAND_PATH,
  WorkerScaleSet,
  WorkerScaleSetArgs,
  renderCustomData,
  customScriptCommand,
  keptFileCommand,
  KEPT_EXTENSION_NAME,
  START_EXTENSION_NAME,
  UNIT_PATH,
  PER_BOOT_SCRIPT_PATH,
  armGuid,
  HEALTH_EXTENSION_NAME,
  healthExtension,
} from "../components";
import { MOCK_SUBSCRIPTION_ID, ResourceRecorder, installMocks, mockPrincipalId, unwrap } from "../testkit/pulumiMocks";
import { decodeCustomData } from "../policy/customData";
import { parseCloudConfig, writeFile } from "../testkit/cloudConfig";
import { DEV_SSH_KEY, SUBNET_ID, minimalArgs } from "../testkit/componentArgs";

const VMSS = "azure-native:compute:VirtualMachineScaleSet";
const ROLE = "azure-native:authorization:RoleAssignment";
const COMPONENT = "hpc-workers:index:WorkerScaleSet";
/** Deploys one component under mocks and returns its children (those it registered), once every output settled. */
async function deploy(name: string, args: WorkerScaleSetArgs, recorder: ResourceRecorder) {
  const before = recorder.resources.length;
  const component = new WorkerScaleSet(name, args);
  await unwrap(component.roleAssignment.id);
  await unwrap(component.customData);
  const mine = recorder.resources.slice(before).filter((r) => r.name === name || r.name.startsWith(`${name}-`));
  return { component, mine };
}

describe("WorkerScaleSet", () => {
  const recorder = new ResourceRecorder();
  before(async () => {
    await installMocks(recorder);
  });

  for (const delivery of Object.values(DeliveryMode)) {
    for (const overprovision of [true, false]) {
      describe(`delivery=${delivery}, overprovision=${overprovision}`, () => {
        const name = `w-${delivery.toLowerCase()}-${overprovision ? "op" : "noop"}`;
        let deployed: Awaited<ReturnType<typeof deploy>>;
        // Each test deploys its own: code run in a before() hook is not counted as any test's coverage,
        // and mutation testing (npm run mutate) runs only the tests that cover a mutant.
        beforeEach(async () => {
          deployed = await deploy(name, minimalArgs({ delivery, overprovision }), recorder);
        });

        it("declares exactly the component, one scale set and one role assignment, named after the component", () => {
          const counts: Record<string, number> = {};
          for (const r of deployed.mine) counts[r.type] = (counts[r.type] ?? 0) + 1;
          assert.deepEqual(counts, { [COMPONENT]: 1, [VMSS]: 1, [ROLE]: 1 });
          assert.deepEqual(deployed.mine.map((r) => r.name).sort(), [name, `${name}-reader`, `${name}-vmss`].sort());
        });

        it("makes a Uniform scale set with a system-assigned identity, ssh-key-only login and the overprovision flag", () => {
          const vmss = deployed.mine.find((r) => r.type === VMSS)!.inputs;
          assert.equal(vmss.orchestrationMode, "Uniform");
          assert.deepEqual(vmss.identity, { type: "SystemAssigned" });
          assert.equal(vmss.overprovision, overprovision);
          assert.equal(vmss.doNotRunExtensionsOnOverprovisionedVMs, true);
          assert.equal(vmss.sku.capacity, 3);
          assert.deepEqual(vmss.upgradePolicy, { mode: "Manual" });
          const os = vmss.virtualMachineProfile.osProfile;
          assert.equal(os.linuxConfiguration.disablePasswordAuthentication, true);
          assert.equal(os.adminPassword, undefined);
          assert.deepEqual(os.linuxConfiguration.ssh.publicKeys, [
            { path: `/home/${DEFAULT_ADMIN_USERNAME}/.ssh/authorized_keys`, keyData: DEV_SSH_KEY },
          ]);
          assert.equal(vmss.virtualMachineProfile.storageProfile.imageReference.publisher, "Canonical");
          assert.equal(
            vmss.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[0].ipConfigurations[0].subnet.id,
            SUBNET_ID,
          );
        });

        it("grants the scale set's own principal Reader on the resource group, as a ServicePrincipal", async () => {
          const role = deployed.mine.find((r) => r.type === ROLE)!.inputs;
          assert.equal(
            role.roleDefinitionId,
            `/subscriptions/${MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_DEFINITION_GUID}`,
          );
          assert.equal(role.scope, `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-test`);
          assert.equal(role.principalType, "ServicePrincipal");
          assert.equal(role.principalId, mockPrincipalId(`${name}-vmss`));
          assert.equal(await unwrap(deployed.component.principalId), mockPrincipalId(`${name}-vmss`));
          assert.match(
            role.roleAssignmentName,
            /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
          );
          assert.equal(
            role.roleAssignmentName,
            armGuid(role.scope, mockPrincipalId(`${name}-vmss`), role.roleDefinitionId),
            "named as Azure's templates name it: guid(scope, principalId, roleDefinitionId)",
          );
        });

        it("ships the agent, the launcher and the mode's trigger in the custom data it exposes", async () => {
          const vmss = deployed.mine.find((r) => r.type === VMSS)!.inputs;
          const shipped = decodeCustomData(vmss.virtualMachineProfile.osProfile.customData).text;
          const exposed = await unwrap(deployed.component.customData);
          assert.equal(shipped, exposed);
          assert.equal(
            exposed,
            renderCustomData({ delivery, workerCommand: minimalArgs().workerCommand as string, overprovision }),
          );
          const doc = parseCloudConfig(exposed);
          assert.ok(writeFile(doc, WAITER_PATH).length > 0, "waiter bundle present");
          assert.match(
            writeFile(doc, LAUNCHER_PATH),
            overprovision ? /'--kept-file' '\/var\/lib\/hpc-workers\/kept'/ : /^(?![\s\S]*--kept-file)/,
          );
          assert.equal(writeFile(doc, WORKER_COMMAND_PATH), "/usr/local/bin/myhpcworkerprocess --queue jobs");
          assert.ok(writeFile(doc, UNIT_PATH).includes("Type=exec"));
          // installNodejs defaults to true: the installer and its unit ship, cloud-init's packages module is unused.
          assert.match(writeFile(doc, NODE_INSTALLER_PATH), /apt-get .* install "\$PACKAGE"/);
          assert.match(
            writeFile(doc, NODE_INSTALL_UNIT_PATH),
            /^ExecStart=\/usr\/local\/lib\/hpc-workers\/install-node$/m,
          );
          assert.equal(doc.packages, undefined);
          const perBoot = (doc.write_files as Array<{ path: string }>).some((f) => f.path === PER_BOOT_SCRIPT_PATH);
          assert.equal(perBoot, delivery === DeliveryMode.CloudInit);
          // Every mode enables the drain watcher (first) and the health endpoint's socket; only systemd mode
          // enables the worker unit.
          const enables = JSON.stringify(doc.runcmd ?? []);
          assert.equal(
            enables.includes('"enable","--now","--no-block","hpc-worker.service"'),
            delivery === DeliveryMode.Systemd,
          );
          assert.ok(enables.includes('"enable","--now","--no-block","hpc-worker-health.socket"'));
          assert.deepEqual(doc.runcmd[0], ["systemctl", "enable", "--now", "--no-block", "hpc-worker-drain.service"]);
        });

        it("declares exactly the extensions of its mode: the kept proof only when it overprovisions, the start CSE only in customScript", () => {
          const vmss = deployed.mine.find((r) => r.type === VMSS)!.inputs;
          const cse = (extensionName: string, commandToExecute: string) => ({
            name: extensionName,
            publisher: "Microsoft.Azure.Extensions",
            type: "CustomScript",
            typeHandlerVersion: "2.1",
            autoUpgradeMinorVersion: true,
            settings: { commandToExecute },
          });
          const kept = keptFileCommand();
          const expected = {
            [DeliveryMode.Systemd]: overprovision ? [cse(KEPT_EXTENSION_NAME, kept)] : [],
            [DeliveryMode.CloudInit]: overprovision ? [cse(KEPT_EXTENSION_NAME, kept)] : [],
            [DeliveryMode.CustomScript]: [
              cse(START_EXTENSION_NAME, overprovision ? `${kept}${customScriptCommand()}\n` : customScriptCommand()),
            ],
          }[delivery];
          // The health extension comes last, provisioned after every CSE (its grace clock starts after them).
          const health = healthExtension({ provisionAfter: expected.map((e) => e.name) });
          assert.deepEqual(vmss.virtualMachineProfile.extensionProfile.extensions, [...expected, health]);
          assert.deepEqual(health.provisionAfterExtensions, expected.length > 0 ? [expected[0].name] : undefined);
          const command: string = expected[0]?.settings.commandToExecute ?? "";
          // The kept file is written (from IMDS compute/vmId) before anything starts the unit.
          assert.equal(command.includes(`kept=${KEPT_FILE_PATH}\n`), overprovision);
          assert.equal(
            command.includes(
              "http://169.254.169.254/metadata/instance/compute/vmId?api-version=2021-02-01&format=text",
            ),
            overprovision,
          );
          const writes = command.indexOf('mv -f "$tmp" "$kept"');
          const starts = command.indexOf("systemd-run");
          assert.equal(starts >= 0, delivery === DeliveryMode.CustomScript);
          if (writes >= 0 && starts >= 0) assert.ok(writes < starts, "the kept file is written before the unit starts");
        });
      });
    }
  }

  it("accepts Outputs for every argument and renders the same custom data", async () => {
    const plain = minimalArgs({ delivery: DeliveryMode.CloudInit });
    const lifted = Object.fromEntries(
      Object.entries(plain).map(([k, v]) => [k, pulumi.output(v)]),
    ) as unknown as WorkerScaleSetArgs;
    const { component } = await deploy("w-outputs", lifted, recorder);
    const { component: reference } = await deploy("w-plain", plain, recorder);
    assert.equal(await unwrap(component.customData), await unwrap(reference.customData));
  });

  it("passes its imdsUrl to the kept-proof extension as to the waiter", async () => {
    const { mine } = await deploy("w-imds", minimalArgs({ imdsUrl: "http://127.0.0.1:8080" }), recorder);
    const [extension] = mine.find((r) => r.type === VMSS)!.inputs.virtualMachineProfile.extensionProfile.extensions;
    assert.equal(extension.settings.commandToExecute, keptFileCommand({ imdsUrl: "http://127.0.0.1:8080" }));
    assert.match(
      extension.settings.commandToExecute,
      /^url='http:\/\/127\.0\.0\.1:8080\/metadata\/instance\/compute\/vmId\?/m,
    );
  });

  it("defaults overprovision to true and passes --kept-file to the waiter", async () => {
    const args = minimalArgs();
    delete args.overprovision;
    const { mine, component } = await deploy("w-default-op", args, recorder);
    assert.equal(mine.find((r) => r.type === VMSS)!.inputs.overprovision, true);
    assert.ok((await unwrap(component.customData)).includes(`'--kept-file' '${KEPT_FILE_PATH}'`));
    const vmss = mine.find((r) => r.type === VMSS)!.inputs;
    assert.equal(vmss.doNotRunExtensionsOnOverprovisionedVMs, true);
    assert.deepEqual(
      vmss.virtualMachineProfile.extensionProfile.extensions.map((e: { name: string }) => e.name),
      [KEPT_EXTENSION_NAME, HEALTH_EXTENSION_NAME],
    );
  });
});
