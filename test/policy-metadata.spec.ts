/**
 * The policy pack's metadata (names, descriptions, levels) and the helpers its rules share: the secret
 * finder, the scope classifier and the custom data decoder.
 */
import * as assert from "assert";
import { decodeCustomData } from "../policy/customData";
import { PACK_NAME, policies, resourcePolicies, stackPolicies } from "../policy/policies";
import { scopeKind } from "../policy/rbac";
import { findSecrets } from "../policy/secrets";
import { RG_ID, SUB, VMSS_ID, b64, cloudInit, gzb64 } from "../testkit/policyStacks";

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
