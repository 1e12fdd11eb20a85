/**
 * The one table of Azure built-in role names the pack and the offline preview print, and the roles
 * that can read a VM's provisioning state.
 * https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
 */
import { READER_ROLE_DEFINITION_GUID } from "./generated/constants";

export const CONTRIBUTOR_ROLE_DEFINITION_GUID = "b24988ac-6180-42a0-ab88-20f7382dd24c";
export const OWNER_ROLE_DEFINITION_GUID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

const BUILT_IN_ROLE_NAMES: Record<string, string> = {
  [READER_ROLE_DEFINITION_GUID]: "Reader",
  [CONTRIBUTOR_ROLE_DEFINITION_GUID]: "Contributor",
  [OWNER_ROLE_DEFINITION_GUID]: "Owner",
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
  "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": "Virtual Machine Contributor",
};

/** Built-in roles that include Reader's `*\/read`, so the waiter can read its VM with any of them. */
export const READER_CAPABLE_ROLE_GUIDS = [
  READER_ROLE_DEFINITION_GUID,
  CONTRIBUTOR_ROLE_DEFINITION_GUID,
  OWNER_ROLE_DEFINITION_GUID,
];

/** The GUID at the end of a role definition id (`/subscriptions/…/roleDefinitions/<guid>`), or a bare GUID. */
export function roleDefinitionGuid(roleDefinitionId: string): string {
  return roleDefinitionId.replace(/\/+$/, "").split("/").pop()!.toLowerCase();
}

/** A built-in role's name, or undefined for a role this table does not know. */
export function roleName(guid: string): string | undefined {
  return BUILT_IN_ROLE_NAMES[roleDefinitionGuid(guid)];
}

/** `Reader (acdd72a7-…)` for a known role, the bare GUID otherwise. */
export function roleLabel(guid: string): string {
  const name = roleName(guid);
  return name ? `${name} (${guid})` : guid;
}
