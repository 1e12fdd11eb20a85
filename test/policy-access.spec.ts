/**
 * Who may reach what, one changed field per case: the scale set's identity and orchestration (what the
 * waiter needs to read its VM's state), its Reader assignment's role, scope and principal type, and
 * key-only SSH login.
 */
import { READER_ROLE_DEFINITION_GUID } from "../components/defaults";
import { CONTRIBUTOR_ROLE_DEFINITION_GUID as CONTRIBUTOR_GUID } from "../policy/roles";
import { OneViolationCase, READER_ID, SUB, assertOnlyViolation } from "../testkit/policyStacks";

describe("policy pack: one changed field, exactly one violation", () => {
  const cases: OneViolationCase[] = [
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
    ["principalType is User", "role-assignment-service-principal-type", (m) => (m.reader!.principalType = "User")],
    ["principalType is unset", "role-assignment-service-principal-type", (m) => delete m.reader!.principalType],
    ["the Reader assignment is missing", "waiter-scale-set-has-reader", (m) => delete m.reader],
    [
      "the Reader assignment is on another resource group",
      "waiter-scale-set-has-reader",
      (m) => (m.reader!.scope = `/subscriptions/${SUB}/resourceGroups/elsewhere`),
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
  ];
  for (const [what, policy, change, delivery] of cases) {
    it(`reports ${policy} when ${what}`, () => assertOnlyViolation(policy, change, delivery));
  }
});
