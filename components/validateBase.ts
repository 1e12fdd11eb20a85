/**
 * What every argument check shares: the view of the arguments it gets (plain values, or
 * NOT_YET_KNOWN for an Output or Promise), and how a problem names its property and shows a value.
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
