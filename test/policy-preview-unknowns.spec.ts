/**
 * The policy pack during a preview, when the engine does not know some values yet: assignments are
 * still linked to their scale set, and checks of unknown values are skipped rather than failed.
 */
import * as assert from "assert";
import { READER_ROLE_DEFINITION_GUID } from "../components/defaults";
import { checkAssignmentPrincipalType, checkAssignmentRole, checkAssignmentScope } from "../policy/rbac";
import { CONTRIBUTOR_ROLE_DEFINITION_GUID as CONTRIBUTOR_GUID } from "../policy/roles";
import { READER_ID, UNKNOWN_STRING, VMSS_ID, evaluate, names } from "../testkit/policyStacks";

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
