/**
 * What every argument check shares: the view of the arguments it gets (plain values, or
 * NOT_YET_KNOWN for an Output or Promise), how a problem names its property and shows a value, and
 * the checks every group of arguments uses (required, non-empty string, boolean, one of an enum).
 */
import type { InputPropertyErrorDetails } from "@pulumi/pulumi";

export type Unknowable<T> = { [K in keyof T]?: unknown };

/** Marks a value that is an Output or a Promise: known only at deployment. */
export const NOT_YET_KNOWN: unique symbol = Symbol("not yet known");

/** "capacity must be …": the reason starts with the property, so it reads alone in any SDK. */
export function problem(propertyPath: string, reason: string): InputPropertyErrorDetails {
  return { propertyPath, reason: `${propertyPath} ${reason}` };
}

export function known(value: unknown): boolean {
  return value !== NOT_YET_KNOWN && value !== undefined;
}

export function show(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
    : String(value);
}

/** An enum's allowed values, named so that the sentence reads the same in every SDK's language. */
export function enumChoice(typeName: string, values: Record<string, string>): string {
  return `a ${typeName}: one of ${Object.values(values)
    .map((a) => `"${a}"`)
    .join(", ")}`;
}

/** The arguments as the validator sees them: anything not yet plain is left out. */
export interface PlainArgs {
  resourceGroupName: unknown;
  subnetId: unknown;
  sshPublicKey: unknown;
  workerCommand: unknown;
  delivery: unknown;
  capacity: unknown;
  overprovision: unknown;
  doNotRunExtensionsOnOverprovisionedVMs: unknown;
  singlePlacementGroup: unknown;
  location: unknown;
  vmSize: unknown;
  image: unknown;
  adminUsername: unknown;
  workerUser: unknown;
  workerKind: unknown;
  installNodejs: unknown;
  timeoutSeconds: unknown;
  imdsUrl: unknown;
  armUrl: unknown;
  tags: unknown;
  priority: unknown;
  maxPrice: unknown;
  terminateNotification: unknown;
  drainSeconds: unknown;
  healthExtension: unknown;
  healthPort: unknown;
  automaticRepairs: unknown;
}

export type Check = (args: Unknowable<PlainArgs>) => InputPropertyErrorDetails[];

export const requireKnownOrOutput =
  (property: keyof PlainArgs, fix: string): Check =>
  (args) =>
    args[property] === undefined || args[property] === null ? [problem(property, `is required; ${fix}`)] : [];

export const nonEmptyString =
  (property: keyof PlainArgs, fix: string): Check =>
  (args) => {
    const v = args[property];
    if (!known(v)) return [];
    return typeof v === "string" && v.trim() !== ""
      ? []
      : [problem(property, `must be a non-empty string; ${fix} (got ${show(v)})`)];
  };

export const optionalBoolean =
  (property: keyof PlainArgs): Check =>
  (args) => {
    const v = args[property];
    return !known(v) || typeof v === "boolean" ? [] : [problem(property, `must be true or false (got ${show(v)})`)];
  };

export const oneOf =
  (property: keyof PlainArgs, values: Record<string, string>, typeName: string): Check =>
  (args) => {
    const v = args[property];
    const allowed = Object.values(values);
    if (!known(v) || allowed.includes(v as string)) return [];
    return [problem(property, `must be ${enumChoice(typeName, values)} (got ${show(v)})`)];
  };
