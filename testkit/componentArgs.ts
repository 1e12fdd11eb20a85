/** Plain arguments shared by the component, validation and policy tests. */
import { DeliveryMode, WorkerScaleSetArgs } from "../components";
import { MOCK_SUBSCRIPTION_ID } from "./pulumiMocks";

/** A valid ed25519 public key (its private half was thrown away). */
export const DEV_SSH_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICVcCtlf1FrsNF8wfOvmBtFN4GQhmKkdyp9ZzfrLqcas dev-placeholder-replace-me";

export const SUBNET_ID = `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet/subnets/workers`;

export function minimalArgs(overrides: Partial<WorkerScaleSetArgs> = {}): WorkerScaleSetArgs {
  return {
    resourceGroupName: "rg-test",
    subnetId: SUBNET_ID,
    sshPublicKey: DEV_SSH_KEY,
    workerCommand: "/usr/local/bin/myhpcworkerprocess --queue jobs",
    delivery: DeliveryMode.Systemd,
    capacity: 3,
    overprovision: true,
    ...overrides,
  };
}
