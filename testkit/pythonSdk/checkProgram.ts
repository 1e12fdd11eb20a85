/**
 * Checks a Python program against a package schema the way the generated Python SDK would
 * accept it, without generating the SDK (that needs the Pulumi CLI): every name it uses from
 * the SDK exists, every keyword is an input or field (by the code generator's naming), every
 * required input is passed, every enum member exists, and every attribute it reads from a
 * component is an output. The program is read with python3's ast (sdkUsage.py), so it must parse.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { ComplexTypeSpec, PackageSchema, ResourceSpec, tokenName } from "../pulumiPlugin/schema";
import { enumMemberName, initParamName, inputTypeClassName, pyName, pyPackage } from "./naming";

interface SdkUsage {
  imported: boolean;
  references: Array<{ name: string; line: number }>;
  calls: Array<{ name: string; positional: number; keywords: string[]; unpacksKeywords: boolean; line: number }>;
  members: Array<{ owner: string; member: string; line: number }>;
  attributes: Array<{ resource: string; attribute: string; line: number }>;
}

/** What each class of the generated SDK is, by its Python name. */
type SdkClass =
  | { kind: "resource"; spec: ResourceSpec }
  /** `<Resource>Args`: the same keywords as the resource's constructor, in an object. */
  | { kind: "resourceArgs"; spec: ResourceSpec }
  | { kind: "inputType"; spec: Extract<ComplexTypeSpec, { type: "object" }> }
  | { kind: "enum"; name: string; spec: Extract<ComplexTypeSpec, { enum: unknown }> };

function sdkClasses(schema: PackageSchema): Map<string, SdkClass> {
  const classes = new Map<string, SdkClass>();
  for (const [token, spec] of Object.entries(schema.resources)) {
    classes.set(tokenName(token), { kind: "resource", spec });
    classes.set(`${tokenName(token)}Args`, { kind: "resourceArgs", spec });
  }
  for (const [token, spec] of Object.entries(schema.types ?? {})) {
    const name = tokenName(token);
    if ("enum" in spec) classes.set(name, { kind: "enum", name, spec });
    else classes.set(inputTypeClassName(name), { kind: "inputType", spec });
  }
  return classes;
}

export function readSdkUsage(programFile: string, sdkPackage: string): SdkUsage {
  const script = path.join(__dirname, "sdkUsage.py");
  return JSON.parse(execFileSync("python3", [script, programFile, sdkPackage], { encoding: "utf8" }));
}

/** Every mismatch between the program and the schema, as "line N: ..." sentences; empty when none. */
export function checkPythonProgram(schema: PackageSchema, programFile: string): string[] {
  const sdkPackage = pyPackage(schema.name);
  const usage = readSdkUsage(programFile, sdkPackage);
  if (!usage.imported) return [`${path.basename(programFile)} does not import ${sdkPackage}`];
  const classes = sdkClasses(schema);
  const problems: string[] = [];

  for (const ref of usage.references) {
    if (!classes.has(ref.name)) problems.push(`line ${ref.line}: ${sdkPackage} has no ${ref.name}`);
  }
  for (const call of usage.calls) {
    const cls = classes.get(call.name);
    if (!cls || cls.kind === "enum") continue;
    if (call.unpacksKeywords) problems.push(`line ${call.line}: ${call.name}(**...) cannot be checked; pass keywords`);
    const isResource = cls.kind === "resource" || cls.kind === "resourceArgs";
    const fields = isResource ? cls.spec.inputProperties : cls.spec.properties;
    const required = (isResource ? cls.spec.requiredInputs : cls.spec.required) ?? [];
    const toPython = isResource ? initParamName : pyName;
    const allowed = new Set(Object.keys(fields).map(toPython));
    if (cls.kind === "resource") {
      // __init__(resource_name, opts=None, *, ...) or __init__(resource_name, args, opts=None).
      allowed.add("opts").add("args");
      if (call.positional < 1 || call.positional > 3) {
        problems.push(`line ${call.line}: ${call.name}(...) takes the resource name first, then keywords`);
      }
    }
    for (const keyword of call.keywords.filter((k) => !allowed.has(k))) {
      problems.push(`line ${call.line}: ${call.name} has no argument ${keyword}`);
    }
    const passesArgsObject = cls.kind === "resource" && (call.positional >= 2 || call.keywords.includes("args"));
    for (const name of passesArgsObject ? [] : required.map(toPython)) {
      if (!call.keywords.includes(name)) problems.push(`line ${call.line}: ${call.name} misses the required ${name}`);
    }
  }
  for (const { owner, member, line } of usage.members) {
    const cls = classes.get(owner);
    if (cls?.kind !== "enum") continue;
    const members = cls.spec.enum.map((m) => enumMemberName(m.name, cls.name));
    if (!members.includes(member))
      problems.push(`line ${line}: ${owner}.${member} is not one of ${members.join(", ")}`);
  }
  for (const { resource, attribute, line } of usage.attributes) {
    const cls = classes.get(resource);
    if (cls?.kind !== "resource") continue;
    const outputs = new Set([...Object.keys(cls.spec.properties).map(pyName), "urn"]);
    if (!outputs.has(attribute)) problems.push(`line ${line}: ${resource} has no output ${attribute}`);
  }
  return problems;
}
