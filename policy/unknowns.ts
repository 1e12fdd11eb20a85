/**
 * Values not known during a preview, and reading props past the engine's proxy. The one place that
 * touches @pulumi/policy's private proxy module.
 *
 * Every rule reads the raw values behind the engine's unknown-checking proxy, so a value that is not
 * known during a preview (a principalId, a resource group id) skips that one check instead of turning
 * the whole rule into a "can't run during preview" advisory. The literal inputs are still checked.
 */

/** Internal to @pulumi/policy (no typings): the proxy the engine wraps props in, the error it throws
 *  on an unknown value, and its sentinels (`unknownStringValue`, …) for values not known yet. */
export const proxyInternals: {
  unknownCheckingProxy<T>(props: T): T;
  UnknownValueError: new (...args: any[]) => Error;
  [sentinel: string]: unknown;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module ships no typings: typed above
} = require("@pulumi/policy/proxy");

const UNKNOWN_SENTINELS = new Set(
  Object.keys(proxyInternals)
    .filter((k) => /^unknown[A-Z]\w*Value$/.test(k))
    .map((k) => proxyInternals[k]),
);

/** Reading this key through @pulumi/policy's proxy returns the object behind it, without the
 *  throw-on-unknown checks. */
const PROXY_TARGET_KEY = "__getSpecialProxyTarget";

export const UNKNOWN = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN || (typeof value === "string" && UNKNOWN_SENTINELS.has(value));
}

/** The plain object behind an engine proxy (or the value itself). Nested values are plain too. */
export function rawProps(props: unknown): Record<string, any> {
  if (props && typeof props === "object") {
    const target = (props as any)[PROXY_TARGET_KEY];
    if (target && typeof target === "object") return target;
    return props as Record<string, any>;
  }
  return {};
}

/** Reads `obj.a.b.c`, returning UNKNOWN as soon as a step is unknown and undefined when missing. */
export function at(obj: unknown, ...path: (string | number)[]): any {
  let cur: any = obj;
  for (const key of path) {
    if (isUnknown(cur)) return UNKNOWN;
    if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
    cur = cur[key];
  }
  return isUnknown(cur) ? UNKNOWN : cur;
}

export function knownString(value: unknown): string | undefined {
  return typeof value === "string" && !isUnknown(value) ? value : undefined;
}
