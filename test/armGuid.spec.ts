import { strict as assert } from "assert";
import { ARM_GUID_NAMESPACE, armGuid, uuidV5 } from "../components/armGuid";

describe("armGuid: role assignment names as Azure's templates make them", () => {
  it("is RFC 4122 version 5 (the Python documentation's uuid5(NAMESPACE_DNS, 'python.org'))", () => {
    assert.equal(uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  });

  it("hashes the arguments joined by '-' under ARM's namespace, as guid() does", () => {
    assert.equal(armGuid("a", "b", "c"), uuidV5(ARM_GUID_NAMESPACE, "a-b-c"));
    assert.equal(armGuid("a", "b", "c"), "a98fa280-e03f-5afa-8d8e-92d0a9c201e8");
  });

  it("differs when only the principal differs, so two stacks with one component name cannot collide", () => {
    const scope = "/subscriptions/s/resourceGroups/rg";
    const role =
      "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";
    assert.notEqual(armGuid(scope, "principal-of-stack-a", role), armGuid(scope, "principal-of-stack-b", role));
  });
});
