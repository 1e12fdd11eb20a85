/**
 * Runs CrossGuard policies without the Pulumi CLI, passing each rule the same argument shapes the
 * analyzer in @pulumi/policy (server.js) builds: props behind the unknown-checking proxy, getConfig
 * with the configSchema defaults filled in (as the CLI's ReconcilePolicyPackConfig does), the
 * enforcement level resolved from config, then the policy, then the pack, and "remediate" reported
 * as "mandatory". A rule that touches an unknown value becomes an advisory "can't run" note, and
 * notApplicable() skips a rule, both as in the engine.
 */
import type {
  EnforcementLevel,
  Policies,
  PolicyConfigSchema,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { proxyInternals } from "./unknowns";

/** A JSON-like deep copy (the engine hands analyzers JSON), so a rule can never mutate a snapshot. */
function plainCopy(value: unknown): any {
  if (Array.isArray(value)) return value.map(plainCopy);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== "function") out[k] = plainCopy(v);
    return out;
  }
  return value;
}

/** One resource as the engine would describe it to an analyzer. */
export interface ResourceSnapshot {
  type: string;
  name: string;
  urn: string;
  /** What `validateResource` sees: the resource's inputs. */
  inputs: Record<string, any>;
  /** What `validateStack` sees: the resource's outputs. Defaults to the inputs. */
  outputs?: Record<string, any>;
  parent?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
}

export interface Violation {
  policyName: string;
  enforcementLevel: "mandatory" | "advisory";
  message: string;
  urn?: string;
  /** The resource's name, when the violation is about one. */
  resourceName?: string;
}

/** Per-policy config as `--policy-pack-config` takes it: a level, or properties plus a level. */
export type PolicyConfigInput = Record<
  string,
  EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)
>;

export interface EvaluateOptions {
  /** The pack-wide default level; the SDK's default is advisory. */
  packEnforcementLevel?: EnforcementLevel;
  config?: PolicyConfigInput;
}

function isResourcePolicy(p: Policies[number]): p is ResourceValidationPolicy {
  return (
    typeof (p as ResourceValidationPolicy).validateResource === "function" ||
    Array.isArray((p as ResourceValidationPolicy).validateResource)
  );
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
  return typeof (p as StackValidationPolicy).validateStack === "function";
}

/** Schema defaults first, then the given properties on top. */
export function policyConfig(
  schema: PolicyConfigSchema | undefined,
  given: PolicyConfigInput[string] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema?.properties ?? {})) {
    if (typeof prop === "object" && prop.default !== undefined) out[key] = plainCopy(prop.default);
  }
  if (given && typeof given === "object") {
    for (const [key, value] of Object.entries(given)) if (key !== "enforcementLevel") out[key] = value;
  }
  return out;
}

export function effectiveLevel(p: Policies[number], opts: EvaluateOptions): EnforcementLevel {
  const given = opts.config?.[p.name];
  const fromConfig = typeof given === "string" ? given : given?.enforcementLevel;
  const level = fromConfig || p.enforcementLevel || opts.packEnforcementLevel || "advisory";
  return level === "remediate" ? "mandatory" : level;
}

class NotApplicable extends Error {}

function notApplicable(reason?: string): never {
  throw new NotApplicable(reason ?? "Policy does not apply");
}

function defaultOptions(parent?: string): PolicyResourceOptions {
  const opts: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
  };
  if (parent) opts.parent = parent;
  return opts;
}

function typeMatcher(type: string) {
  return {
    isType: (cls: any) =>
      cls?.__pulumiType === type ||
      (typeof cls?.isInstance === "function" && cls.isInstance({ __pulumiType: type }) === true),
  };
}

/** Evaluates every enabled resource policy on every resource, then every stack policy on the stack. */
export async function evaluatePolicies(
  policies: Policies,
  resources: ResourceSnapshot[],
  opts: EvaluateOptions = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const stackTags: ReadonlyMap<string, string> = new Map();

  const run = async (
    p: Policies[number],
    level: "mandatory" | "advisory",
    fn: (report: ReportViolation) => unknown,
    subject?: ResourceSnapshot,
  ) => {
    const report: ReportViolation = (message: string, urn?: string) => {
      const target = subject ?? (urn ? byUrn.get(urn) : undefined);
      violations.push({
        policyName: p.name,
        enforcementLevel: level,
        message,
        urn: subject?.urn ?? urn,
        resourceName: target?.name,
      });
    };
    try {
      await fn(report);
    } catch (e) {
      if (e instanceof NotApplicable) return;
      if (e instanceof proxyInternals.UnknownValueError) {
        violations.push({
          policyName: p.name,
          enforcementLevel: "advisory",
          message: `can't run policy '${p.name}' during preview: ${e.message}`,
          urn: subject?.urn,
          resourceName: subject?.name,
        });
        return;
      }
      throw new Error(`policy '${p.name}' threw${subject ? ` on ${subject.name}` : ""}: ${(e as Error).message}`);
    }
  };

  for (const p of policies) {
    const level = effectiveLevel(p, opts);
    if (level === "disabled" || !isResourcePolicy(p) || !p.validateResource) continue;
    const validations: ResourceValidation[] = Array.isArray(p.validateResource)
      ? p.validateResource
      : [p.validateResource];
    const config = policyConfig(p.configSchema, opts.config?.[p.name]);
    for (const r of resources) {
      for (const validate of validations) {
        const props = proxyInternals.unknownCheckingProxy(plainCopy(r.inputs));
        const { isType } = typeMatcher(r.type);
        const args: ResourceValidationArgs = {
          type: r.type,
          props,
          urn: r.urn,
          name: r.name,
          opts: defaultOptions(r.parent),
          stackTags,
          isType,
          asType: ((cls: any) => (isType(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
          getConfig: <T extends object>() => plainCopy(config) as T,
          notApplicable,
        };
        await run(p, level as "mandatory" | "advisory", (report) => validate(args, report), r);
      }
    }
  }

  const stackResources = toPolicyResources(resources);
  for (const p of policies) {
    const level = effectiveLevel(p, opts);
    if (level === "disabled" || !isStackPolicy(p)) continue;
    const config = policyConfig(p.configSchema, opts.config?.[p.name]);
    const args: StackValidationArgs = {
      resources: stackResources,
      stackTags,
      getConfig: <T extends object>() => plainCopy(config) as T,
      notApplicable,
    };
    await run(p, level as "mandatory" | "advisory", (report) => p.validateStack(args, report));
  }
  return violations;
}

/** The stack view: outputs behind the proxy, with parent and dependencies linked to objects. */
export function toPolicyResources(resources: ResourceSnapshot[]): PolicyResource[] {
  const out = resources.map((r) => {
    const props = proxyInternals.unknownCheckingProxy(plainCopy(r.outputs ?? r.inputs));
    const { isType } = typeMatcher(r.type);
    const pr: PolicyResource = {
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: defaultOptions(r.parent),
      dependencies: [],
      propertyDependencies: {},
      isType,
      asType: ((cls: any) => (isType(cls) ? props : undefined)) as PolicyResource["asType"],
    };
    return pr;
  });
  const byUrn = new Map(out.map((r) => [r.urn, r]));
  resources.forEach((r, i) => {
    const pr = out[i];
    if (r.parent && byUrn.has(r.parent)) pr.parent = byUrn.get(r.parent);
    pr.dependencies = (r.dependencies ?? [])
      .map((d) => byUrn.get(d))
      .filter((d): d is PolicyResource => d !== undefined);
    for (const [key, deps] of Object.entries(r.propertyDependencies ?? {})) {
      pr.propertyDependencies[key] = deps.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => d !== undefined);
    }
  });
  return out;
}

export function hasMandatory(violations: Violation[]): boolean {
  return violations.some((v) => v.enforcementLevel === "mandatory");
}

/** `mandatory|advisory  policy-name  resource-name: reason`, one line per violation. */
export function formatViolation(v: Violation): string {
  return `${v.enforcementLevel}  ${v.policyName}  ${v.resourceName ?? "(stack)"}: ${v.message}`;
}
