/**
 * Role assignments and their scopes: which assignment targets which scale set's principal, and the
 * checks on each (role, scope, principal type), plus the scale sets left without a Reader.
 */
import type { PolicyResource } from "@pulumi/policy";
import { isRoleAssignmentType, isScaleSetType, scaleSetFacts } from "./facts";
import { READER_ROLE_DEFINITION_GUID } from "./generated/constants";
import { roleDefinitionGuid, roleLabel } from "./roles";
import { UNKNOWN, at, knownString, rawProps } from "./unknowns";

export type ScopeKind = "root" | "managementGroup" | "subscription" | "resourceGroup" | "resource" | "other";

/** https://learn.microsoft.com/azure/role-based-access-control/scope-overview#scope-format */
export function scopeKind(scope: string): ScopeKind {
  const s = scope.trim().replace(/\/+$/, "");
  if (s === "") return "root";
  if (/^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+$/i.test(s)) return "managementGroup";
  if (/^\/subscriptions\/[^/]+$/i.test(s)) return "subscription";
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+$/i.test(s)) return "resourceGroup";
  if (/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+/i.test(s)) return "resource";
  return "other";
}

/** Whether an assignment at `scope` reaches `resourceId`. A management group may hold the
 *  subscription, which only ARM knows, so it counts as covering. */
function scopeCovers(scope: string, resourceId: string): boolean {
  const kind = scopeKind(scope);
  if (kind === "root" || kind === "managementGroup") return true;
  const s = scope.trim().replace(/\/+$/, "").toLowerCase();
  const id = resourceId.toLowerCase();
  return id === s || id.startsWith(s + "/");
}

export interface LinkedAssignment {
  assignment: PolicyResource;
  scaleSet: PolicyResource;
}

function isComponentParent(r: PolicyResource | undefined): r is PolicyResource {
  return r !== undefined && r.type !== "pulumi:pulumi:Stack";
}

/**
 * Which scale set's principal each role assignment targets. A known principalId decides alone;
 * otherwise (a preview, where it is unknown) the assignment's principalId depending on the scale set,
 * a dependency on it, or being its sibling inside one component links them.
 */
export function linkRoleAssignments(resources: PolicyResource[]): LinkedAssignment[] {
  const scaleSets = resources.filter((r) => isScaleSetType(r.type));
  const links: LinkedAssignment[] = [];
  for (const assignment of resources.filter((r) => isRoleAssignmentType(r.type))) {
    const principalId = knownString(at(rawProps(assignment.props), "principalId"));
    for (const scaleSet of scaleSets) {
      const scaleSetPrincipal = knownString(at(rawProps(scaleSet.props), "identity", "principalId"));
      let linked: boolean;
      if (principalId !== undefined && scaleSetPrincipal !== undefined) {
        linked = principalId.toLowerCase() === scaleSetPrincipal.toLowerCase();
      } else {
        const principalDeps = assignment.propertyDependencies?.["principalId"];
        linked =
          (principalDeps ?? []).some((d) => d.urn === scaleSet.urn) ||
          (principalDeps === undefined && (assignment.dependencies ?? []).some((d) => d.urn === scaleSet.urn)) ||
          (isComponentParent(assignment.parent) && assignment.parent.urn === scaleSet.parent?.urn);
      }
      if (linked) links.push({ assignment, scaleSet });
    }
  }
  return links;
}

export function checkAssignmentRole(assignmentProps: unknown, allowedGuids: string[]): string[] {
  const id = knownString(at(rawProps(assignmentProps), "roleDefinitionId"));
  if (id === undefined) return [];
  const guid = roleDefinitionGuid(id);
  const allowed = allowedGuids.map((g) => roleDefinitionGuid(g));
  if (allowed.includes(guid)) return [];
  return [
    `grants ${roleLabel(guid)} to a scale set's principal: use Reader (${READER_ROLE_DEFINITION_GUID}), or add the role to allowedRoleDefinitionIds in this policy's config`,
  ];
}

export function checkAssignmentScope(assignmentProps: unknown): string[] {
  const scope = knownString(at(rawProps(assignmentProps), "scope"));
  if (scope === undefined) return [];
  const kind = scopeKind(scope);
  if (kind === "resourceGroup" || kind === "resource") return [];
  const what: Record<ScopeKind, string> = {
    root: "the tenant root",
    managementGroup: "a management group",
    subscription: "a subscription",
    resourceGroup: "",
    resource: "",
    other: "an unrecognised scope",
  };
  return [`scope "${scope}" is ${what[kind]}: scope it to the resource group (or the scale set) the waiter reads`];
}

export function checkAssignmentPrincipalType(assignmentProps: unknown): string[] {
  const type = at(rawProps(assignmentProps), "principalType");
  if (type === UNKNOWN) return [];
  if (typeof type === "string" && type.toLowerCase() === "serviceprincipal") return [];
  const got = type === undefined ? "is not set" : `is "${type}"`;
  return [
    `principalType ${got}: set principalType: "ServicePrincipal" so ARM does not look the new identity up in Entra and fail with PrincipalNotFound`,
  ];
}

/** Scale sets that ship the waiter but have no role assignment through which it can read itself. */
export function scaleSetsMissingReader(resources: PolicyResource[], readerGuids: string[]): PolicyResource[] {
  const links = linkRoleAssignments(resources);
  const allowed = readerGuids.map(roleDefinitionGuid);
  return resources
    .filter((r) => {
      const facts = scaleSetFacts(r.props);
      // Without a system-assigned identity there is no principal to grant anything to; that is
      // waiter-scale-set-identity-and-orchestration's finding, reported once.
      const hasPrincipal =
        facts.identityType === UNKNOWN ||
        (typeof facts.identityType === "string" && /systemassigned/i.test(facts.identityType));
      return isScaleSetType(r.type) && facts.shipsWaiter && hasPrincipal;
    })
    .filter((scaleSet) => {
      const scaleSetId = knownString(at(rawProps(scaleSet.props), "id"));
      return !links.some((l) => {
        if (l.scaleSet !== scaleSet) return false;
        const a = rawProps(l.assignment.props);
        const roleId = at(a, "roleDefinitionId");
        const roleOk =
          roleId === UNKNOWN || (typeof roleId === "string" && allowed.includes(roleDefinitionGuid(roleId)));
        const scope = knownString(at(a, "scope"));
        const scopeOk = scope === undefined || scaleSetId === undefined || scopeCovers(scope, scaleSetId);
        return roleOk && scopeOk;
      });
    });
}
