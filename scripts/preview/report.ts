/**
 * What the offline preview prints: the resource tree as `pulumi preview` draws it, a summary of each
 * role assignment and scale set (role, scope, principal, delivery, kept proof, custom-data size, health), and the policy
 * pack's verdict.
 */
import * as path from "path";
import {
  DRAIN_SCRIPT_PATH,
  DRAIN_UNIT,
  KEPT_FILE_PATH,
  MAX_CUSTOM_DATA_BYTES,
  WAITER_PATH,
  WORKER_UNIT,
} from "../../components/defaults";
import { PER_BOOT_SCRIPT_PATH } from "../../components/delivery";
import { decodeCustomData } from "../../policy/customData";
import { ResourceSnapshot, Violation, formatViolation, hasMandatory, toPolicyResources } from "../../policy/evaluate";
import { isRoleAssignmentType, isScaleSetType } from "../../policy/facts";
import { linkRoleAssignments } from "../../policy/rbac";
import { roleDefinitionGuid, roleName } from "../../policy/roles";
import type { ProgramRun } from "../../testkit/programRun";
import { renderHealthLines } from "./health";

/** cloud-init's per-boot directory, where cloudInit delivery puts its script. */
const PER_BOOT_SCRIPT_DIR = `${path.posix.dirname(PER_BOOT_SCRIPT_PATH)}/`;

export function renderTree(resources: ResourceSnapshot[]): string[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const children = new Map<string | undefined, ResourceSnapshot[]>();
  for (const r of resources) {
    const key = r.parent && byUrn.has(r.parent) ? r.parent : undefined;
    children.set(key, [...(children.get(key) ?? []), r]);
  }
  const rows: [string, string][] = [];
  const walk = (r: ResourceSnapshot, prefix: string, branch: string) => {
    rows.push([`${prefix}${branch}${r.type}`, r.name]);
    const kids = children.get(r.urn) ?? [];
    const nextPrefix = branch === "" ? prefix : prefix + (branch === "└─ " ? "   " : "│  ");
    kids.forEach((k, i) => walk(k, nextPrefix, i === kids.length - 1 ? "└─ " : "├─ "));
  };
  for (const root of children.get(undefined) ?? []) walk(root, "", "");
  const width = Math.max("Type".length, ...rows.map(([t]) => t.length)) + 2;
  const nameWidth = Math.max("Name".length, ...rows.map(([, n]) => n.length)) + 2;
  return [
    `     ${"Type".padEnd(width)}${"Name".padEnd(nameWidth)}Plan`,
    ...rows.map(([t, n]) => ` +   ${t.padEnd(width)}${n.padEnd(nameWidth)}create`),
  ];
}

const fmt = (n: number) => n.toLocaleString("en-US");

const cseCommand = (e: any): string =>
  /^customscript/i.test(e?.type ?? "")
    ? String(e?.settings?.commandToExecute ?? e?.protectedSettings?.commandToExecute ?? "")
    : "";
/** The CSE that only writes the kept file (systemd and cloudInit modes): a proof, not what starts the worker. */
const isKeptProofOnly = (e: any): boolean =>
  cseCommand(e).includes(KEPT_FILE_PATH) && !cseCommand(e).includes(WORKER_UNIT);

/** What starts the worker, read back from the rendered scale set. */
export function detectDelivery(inputs: Record<string, any>, cloudInitText: string | undefined): string {
  const extensions: any[] = inputs.virtualMachineProfile?.extensionProfile?.extensions ?? [];
  if (extensions.some((e) => /^customscript/i.test(e?.type ?? "") && !isKeptProofOnly(e)))
    return "customScript (Custom Script Extension)";
  if (cloudInitText?.includes(PER_BOOT_SCRIPT_DIR)) return "cloudInit (per-boot script)";
  if (cloudInitText && /\/etc\/systemd\/system\/[\w@.-]+\.service/.test(cloudInitText)) return "systemd (unit)";
  return "unknown (no waiter trigger found)";
}

/** Priority, the Spot price cap and the notice Azure gives before a delete, read back from the scale set's model. */
export function describeEviction(profile: Record<string, any>): string {
  const notice = profile.scheduledEventsProfile?.terminateNotificationProfile;
  const deletes =
    notice?.enable === true
      ? `deletes announced ${notice.notBeforeTimeout ?? "PT5M"} ahead (terminate notification)`
      : "deletes come without notice (no terminate notification)";
  if (profile.priority !== "Spot" && profile.priority !== "Low") return `${profile.priority ?? "Regular"}; ${deletes}`;
  const maxPrice = profile.billingProfile?.maxPrice;
  const price =
    maxPrice === undefined || maxPrice === -1 ? "up to the on-demand price (maxPrice -1)" : `at most $${maxPrice}/hour`;
  return `${profile.priority}, evictionPolicy ${profile.evictionPolicy ?? "(unset: Deallocate)"}, paying ${price}; evictions announced about 30 s ahead (Preempt), ${deletes}`;
}

/** The drain watcher custom data ships, and the drain time its script passes (drain-watcher --drain-seconds). */
export function describeDrain(cloudInitText: string | undefined): string {
  if (!cloudInitText || !cloudInitText.includes(DRAIN_SCRIPT_PATH)) return "none: no drain watcher in custom data";
  const seconds = /--drain-seconds'? +'?(\d+)/.exec(cloudInitText);
  return `${DRAIN_UNIT} on Scheduled Events: SIGTERM, SIGKILL after ${seconds ? `${seconds[1]} s` : "the agent's default"} at most; health Initializing while draining`;
}

/** How the waiter learns that the scale set keeps its VM: the extension that writes the kept file, and --kept-file. */
export function describeKeptProof(inputs: Record<string, any>, cloudInitText: string | undefined): string {
  const extensions: any[] = inputs.virtualMachineProfile?.extensionProfile?.extensions ?? [];
  const writer = extensions.find((e) => cseCommand(e).includes(KEPT_FILE_PATH));
  // As the launcher passes it (shell-quoted); the waiter bundle's own usage text also names the flag.
  const flag = cloudInitText?.includes(`'--kept-file' '${KEPT_FILE_PATH}'`) ?? false;
  if (!writer && !flag) return "none: Succeeded is enough (no --kept-file)";
  if (!writer) return `MISSING: the waiter waits for --kept-file ${KEPT_FILE_PATH} but no extension writes it`;
  const ext = `extension "${writer.name}" (${writer.publisher}/${writer.type} ${writer.typeHandlerVersion})`;
  const where =
    inputs.doNotRunExtensionsOnOverprovisionedVMs === true
      ? "on kept VMs only"
      : "on every VM, extras too (doNotRunExtensionsOnOverprovisionedVMs is not true)";
  return `${ext} writes ${KEPT_FILE_PATH} ${where}; ${flag ? "the waiter runs with --kept-file" : "but the waiter does not run with --kept-file"}`;
}

export function renderSummary(run: ProgramRun, configuredDelivery?: string): string[] {
  const lines: string[] = [];
  const stackView = toPolicyResources(run.resources);
  const links = linkRoleAssignments(stackView);
  const assignments = run.resources.filter((r) => isRoleAssignmentType(r.type));
  lines.push("Role assignments:");
  if (assignments.length === 0) lines.push("  (none)");
  for (const a of assignments) {
    const roleId: string = a.inputs.roleDefinitionId ?? "(unset)";
    const target = links.filter((l) => l.assignment.urn === a.urn).map((l) => l.scaleSet.name);
    lines.push(`  ${a.name}`);
    lines.push(`    role:          ${roleName(roleId) ?? roleDefinitionGuid(roleId)}  ${roleId}`);
    lines.push(`    scope:         ${a.inputs.scope ?? "(unset)"}`);
    lines.push(`    principalType: ${a.inputs.principalType ?? "(unset)"}`);
    lines.push(
      `    principal:     ${target.length > 0 ? `identity of ${target.join(", ")}` : (a.inputs.principalId ?? "(unset)")}`,
    );
  }
  const scaleSets = run.resources.filter((r) => isScaleSetType(r.type));
  lines.push("Scale sets:");
  if (scaleSets.length === 0) lines.push("  (none)");
  for (const s of scaleSets) {
    const i = s.inputs;
    const b64: string | undefined = i.virtualMachineProfile?.osProfile?.customData;
    const cd = b64 ? decodeCustomData(b64) : undefined;
    lines.push(`  ${s.name}`);
    lines.push(
      `    sku:           ${i.sku?.capacity ?? "?"} x ${i.sku?.name ?? "?"}, orchestrationMode ${i.orchestrationMode ?? "(unset)"}, identity ${i.identity?.type ?? "(none)"}`,
    );
    lines.push(
      `    overprovision: ${i.overprovision ?? "(unset: platform default true)"}, doNotRunExtensionsOnOverprovisionedVMs ${i.doNotRunExtensionsOnOverprovisionedVMs ?? "(unset: false)"}`,
    );
    lines.push(`    eviction:      ${describeEviction(i.virtualMachineProfile ?? {})}`);
    lines.push(`    drain:         ${describeDrain(cd?.text)}`);
    const detected = detectDelivery(i, cd?.text);
    lines.push(
      `    delivery:      ${detected}${configuredDelivery ? ` [config delivery: ${configuredDelivery}]` : ""}`,
    );
    lines.push(`    kept proof:    ${describeKeptProof(i, cd?.text)}`);
    if (cd) {
      const pct = ((cd.bytes / MAX_CUSTOM_DATA_BYTES) * 100).toFixed(1);
      lines.push(
        `    custom data:   ${fmt(cd.bytes)} bytes decoded${cd.gzip ? " (gzip)" : ""} of the ${fmt(MAX_CUSTOM_DATA_BYTES)}-byte limit (${pct}%), ${fmt(cd.base64Length)} chars base64, ${fmt(Buffer.byteLength(cd.text))} bytes of cloud-init text`,
      );
      lines.push(`    waiter:        ${cd.text.includes(WAITER_PATH) ? `shipped (${WAITER_PATH})` : "not shipped"}`);
    } else {
      lines.push("    custom data:   (none)");
    }
    lines.push(...renderHealthLines(i));
  }
  return lines;
}

/** The stack's outputs, as `pulumi preview` lists them (nothing when there are none). */
export function renderOutputs(run: ProgramRun): string[] {
  const entries = Object.entries(run.outputs);
  if (entries.length === 0) return [];
  return ["Outputs:", ...entries.map(([k, v]) => `  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)];
}

/** The policy section: every violation as `level  policy  resource: reason`, then whether `pulumi up` is blocked. */
export function renderPolicyReport(violations: Violation[], policyCount: number): string[] {
  const lines = [`Policies (${policyCount} from policy/policies.ts):`];
  if (violations.length === 0) lines.push("  no violations");
  for (const v of violations) lines.push(`  ${formatViolation(v)}`);
  lines.push("");
  lines.push(
    hasMandatory(violations)
      ? "error: mandatory policy violations: pulumi up would be blocked"
      : "Passed: pulumi up would not be blocked by the policy pack",
  );
  return lines;
}
