/**
 * The parts of a Pulumi package schema (https://www.pulumi.com/docs/iac/using-pulumi/extending-pulumi/schema/)
 * that a component provider's inferred schema holds and the tests read.
 */

/** A property's type: a primitive, an array or map of one, or a reference to a type or resource. */
export interface TypeSpec {
  type?: "string" | "number" | "integer" | "boolean" | "array" | "object";
  items?: TypeSpec;
  additionalProperties?: TypeSpec;
  $ref?: string;
}

export interface PropertySpec extends TypeSpec {
  description?: string;
  optional?: boolean;
  /** A plain (non-Input) value in every SDK. */
  plain?: boolean;
}

export interface ResourceSpec {
  isComponent?: boolean;
  description?: string;
  inputProperties: Record<string, PropertySpec>;
  requiredInputs?: string[];
  properties: Record<string, PropertySpec>;
  required?: string[];
}

export interface EnumMemberSpec {
  name: string;
  value: string | number;
  description?: string;
}

export type ComplexTypeSpec =
  | { type: "object"; properties: Record<string, PropertySpec>; required?: string[]; description?: string }
  | { type: "string" | "number" | "integer"; enum: EnumMemberSpec[]; description?: string };

export interface PackageSchema {
  name: string;
  version?: string;
  description?: string;
  resources: Record<string, ResourceSpec>;
  types?: Record<string, ComplexTypeSpec>;
  dependencies?: Array<{ name: string; version: string }>;
}

/** `pkg:index:Name` → `Name`: the class name every SDK gives a resource or type of the index module. */
export function tokenName(token: string): string {
  return token.split(":")[2];
}

/** The in-package reference to a type, as properties carry it. */
export function typeRef(packageName: string, typeName: string): string {
  return `#/types/${packageName}:index:${typeName}`;
}
