/**
 * A stack's config as the Pulumi CLI hands it to a program: Pulumi.yaml's `config:` schema (types,
 * defaults, secrets) applied to Pulumi.<stack>.yaml and `--config` overrides. Shared by the offline
 * preview and the program's tests, so both run index.ts with exactly the values `pulumi up` would.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

/** Stand-in for `secure:` stack values, which only the Pulumi CLI can decrypt. */
const SECRET_PLACEHOLDER = "offline-preview-secret-placeholder";

/** A mistake in Pulumi.yaml, the stack file or an override; the message names the key and the fix. */
export class StackConfigError extends Error {}

interface ConfigType {
  type?: "string" | "integer" | "boolean" | "array";
  items?: ConfigType;
  default?: unknown;
  value?: unknown;
  secret?: boolean;
}

export interface ProjectConfig {
  project: string;
  /** Fully-qualified key → value, as the language host passes them (objects JSON-encoded). */
  values: Record<string, string>;
  secretKeys: string[];
  warnings: string[];
}

function readYaml(file: string, what: string, fix: string): any {
  if (!fs.existsSync(file)) throw new StackConfigError(`${what} not found at ${file}: ${fix}`);
  try {
    return YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
  } catch (e) {
    throw new StackConfigError(`${file} is not valid YAML (${(e as Error).message.split("\n")[0]}): fix the file`);
  }
}

function qualify(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

function isSchema(v: unknown): v is ConfigType {
  return (
    !!v &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    ("type" in v || "default" in v || "value" in v || "description" in v || "secret" in v)
  );
}

/** The CLI's ValidateConfigValue: strings of digits pass as integers, "true"/"false" as booleans. */
export function matchesType(t: ConfigType, value: unknown): boolean {
  switch (t.type) {
    case undefined:
      return true;
    case "string":
      return typeof value === "string";
    case "integer":
      return (
        (typeof value === "number" && Number.isInteger(value)) ||
        (typeof value === "string" && /^[+-]?\d+$/.test(value.trim()))
      );
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "array":
      return Array.isArray(value) && (!t.items || value.every((v) => matchesType(t.items!, v)));
    default:
      return true;
  }
}

function typeName(t: ConfigType): string {
  return t.type === "array" ? `array<${t.items ? typeName(t.items) : "any"}>` : (t.type ?? "any");
}

/** Stack YAML scalars reach the program as strings; lists and maps as JSON. */
function asConfigString(value: unknown): string {
  return typeof value === "string"
    ? value
    : typeof value === "object" && value !== null
      ? JSON.stringify(value)
      : String(value);
}

/** A `--config` value: YAML-typed like the CLI's `--path` values, so `capacity=3` is an integer. */
function parseOverride(raw: string): unknown {
  if (/^[+-]?\d+$/.test(raw)) return Number(raw);
  if (raw === "true" || raw === "false") return raw === "true";
  return raw;
}

export function loadConfig(projectDir: string, stack: string, overrides: Record<string, string> = {}): ProjectConfig {
  const projectFile = path.join(projectDir, "Pulumi.yaml");
  const proj = readYaml(projectFile, "Pulumi.yaml", "run from the project root (the folder with Pulumi.yaml)");
  const project: string = proj.name;
  if (typeof project !== "string" || project === "")
    throw new StackConfigError(`${projectFile} has no name: add "name: <project>"`);
  const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const stackDoc = readYaml(
    stackFile,
    `Stack file Pulumi.${stack}.yaml`,
    `create it, or pick another stack with --stack NAME (have: ${listStacks(projectDir).join(", ") || "none"})`,
  );
  const stackConfig: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [k, v] of Object.entries(stackDoc.config ?? {})) {
    stackConfig[qualify(project, k)] = v;
    origin[qualify(project, k)] = `fix it in Pulumi.${stack}.yaml`;
  }
  for (const [k, v] of Object.entries(overrides)) {
    stackConfig[qualify(project, k)] = parseOverride(v);
    origin[qualify(project, k)] = `fix --config ${k}=…`;
  }

  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const warnings: string[] = [];
  const problems: string[] = [];
  const missing: string[] = [];

  for (const [key, raw] of Object.entries(stackConfig)) {
    if (raw && typeof raw === "object" && !Array.isArray(raw) && "secure" in raw) {
      values[key] = SECRET_PLACEHOLDER;
      secretKeys.push(key);
      warnings.push(
        `${key} is encrypted (secure:), which only the Pulumi CLI can decrypt: the program sees "${SECRET_PLACEHOLDER}"`,
      );
    } else if (raw !== null && raw !== undefined) {
      values[key] = asConfigString(raw);
    }
  }

  for (const [rawKey, decl] of Object.entries(proj.config ?? {})) {
    const key = qualify(project, rawKey);
    const schema: ConfigType = isSchema(decl) ? decl : { value: decl };
    const fallback = schema.default !== undefined ? schema.default : schema.value;
    if (!(key in stackConfig)) {
      if (fallback !== undefined) values[key] = asConfigString(fallback);
      else if (key.startsWith(`${project}:`)) missing.push(key);
      continue;
    }
    const given = stackConfig[key];
    if (schema.secret && !(given && typeof given === "object" && "secure" in given)) {
      problems.push(`${key} must be encrypted: pulumi config set --secret ${rawKey} <value>`);
    } else if (!(given && typeof given === "object" && "secure" in given) && !matchesType(schema, given)) {
      problems.push(`${key} must be of type ${typeName(schema)} (got ${JSON.stringify(given)}): ${origin[key]}`);
    }
    if (schema.secret) secretKeys.push(key);
  }
  if (missing.length > 0) {
    problems.push(
      `Stack '${stack}' is missing configuration ${missing.map((k) => `'${k}'`).join(", ")}: add ${missing.length > 1 ? "them" : "it"} to Pulumi.${stack}.yaml or pass --config KEY=VALUE`,
    );
  }
  if (problems.length > 0) throw new StackConfigError(problems.join("\n"));
  return { project, values, secretKeys: [...new Set(secretKeys)], warnings };
}

function listStacks(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((s): s is string => !!s);
  } catch {
    return [];
  }
}
