/**
 * The policy pack's config: an allow-listed role, a configured soft budget, and enforcement levels
 * (advisory, disabled) set per rule.
 */
import * as assert from "assert";
import { READER_ROLE_DEFINITION_GUID } from "../components/defaults";
import { hasMandatory } from "../policy/evaluate";
import { CONTRIBUTOR_ROLE_DEFINITION_GUID as CONTRIBUTOR_GUID } from "../policy/roles";
import { Model, READER_ID, evaluate, names } from "../testkit/policyStacks";

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
