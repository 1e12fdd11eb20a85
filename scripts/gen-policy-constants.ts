/**
 * npm run gen:policy
 *
 * Writes policy/generated/constants.ts: the constants of components/defaults.ts (and a few more
 * modules, POLICY_CONSTANT_SOURCES) that the policy pack needs, each with its doc comment; and
 * policy/generated/azureFormats.ts, a copy of components/azureFormats.ts reading those constants. `pulumi policy publish` packs only policy/, so the pack cannot
 * import ../components; it carries this generated copy instead, and test/policy-package.spec.ts fails
 * when the committed file differs from what this script writes.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import * as healthServer from "../agent/src/core/healthServer";
import * as defaults from "../components/defaults";
import * as health from "../components/health";

const ROOT = path.resolve(__dirname, "..");
export const POLICY_CONSTANTS_FILE = path.join(ROOT, "policy", "generated", "constants.ts");
export const POLICY_FORMATS_FILE = path.join(ROOT, "policy", "generated", "azureFormats.ts");
const FORMATS_SOURCE = "components/azureFormats.ts";
const GENERATED_HEADER = (files: string) => [
  `// Generated from ${files} by \`npm run gen:policy\` (scripts/gen-policy-constants.ts) — do not edit.`,
  "// The pack is published alone, so it carries this copy; a test fails when it is out of date.",
  "",
];

/**
 * What the pack reads, by source file: the shipped paths it recognises, the platform limit, the role
 * it expects and what Azure accepts for Spot (components/defaults.ts); the health extension's identity (components/health.ts);
 * the path the shipped health endpoint serves (agent/src/core/healthServer.ts).
 */
export const POLICY_CONSTANT_SOURCES = [
  {
    file: "components/defaults.ts",
    module: defaults as Record<string, unknown>,
    names: [
      "MAX_CUSTOM_DATA_BYTES",
      "READER_ROLE_DEFINITION_GUID",
      "WAITER_PATH",
      "LAUNCHER_PATH",
      "WORKER_COMMAND_PATH",
      "WORKER_UNIT",
      "KEPT_FILE_PATH",
      "HEALTH_SOCKET_UNIT",
      "HEALTH_SERVER_PATH",
      "DEFAULT_MAX_PRICE",
      "MAX_PRICE_DECIMALS",
      "MIN_TERMINATE_NOTIFICATION_SECONDS",
      "MAX_TERMINATE_NOTIFICATION_SECONDS",
    ] satisfies readonly (keyof typeof defaults)[],
  },
  {
    file: "components/health.ts",
    module: health as Record<string, unknown>,
    names: ["HEALTH_EXTENSION_PUBLISHER", "HEALTH_EXTENSION_TYPE"] satisfies readonly (keyof typeof health)[],
  },
  {
    file: "agent/src/core/healthServer.ts",
    module: healthServer as Record<string, unknown>,
    names: ["HEALTH_PATH"] satisfies readonly (keyof typeof healthServer)[],
  },
];

/** The `/** … *\/` comment right above `export const NAME`, if any. */
function docComments(file: string, sourceText: string): Map<string, string> {
  const source = ts.createSourceFile(file, sourceText, ts.ScriptTarget.ES2020, true);
  const docs = new Map<string, string>();
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const comments = ts.getLeadingCommentRanges(sourceText, statement.getFullStart()) ?? [];
    const last = comments[comments.length - 1];
    const text = last && sourceText.slice(last.pos, last.end);
    for (const decl of statement.declarationList.declarations) {
      if (ts.isIdentifier(decl.name) && text?.startsWith("/**")) docs.set(decl.name.text, text);
    }
  }
  return docs;
}

export function renderPolicyConstants(): string {
  const body: string[] = [];
  for (const source of POLICY_CONSTANT_SOURCES) {
    const docs = docComments(source.file, fs.readFileSync(path.join(ROOT, source.file), "utf8"));
    for (const name of source.names) {
      const doc = docs.get(name);
      body.push(`${doc ? `${doc}\n` : ""}export const ${name} = ${JSON.stringify(source.module[name])};\n`);
    }
  }
  const files = POLICY_CONSTANT_SOURCES.map((s) => s.file).join(", ");
  return [...GENERATED_HEADER(files), body.join("\n")].join("\n");
}

/** components/azureFormats.ts with its one import pointed at the generated constants, which must carry every name it imports. */
export function renderPolicyFormats(): string {
  const source = fs.readFileSync(path.join(ROOT, FORMATS_SOURCE), "utf8");
  const imports = [...source.matchAll(/^import \{([^}]*)\} from "([^"]+)";$/gm)];
  const copied = new Set(POLICY_CONSTANT_SOURCES.flatMap((s) => s.names as readonly string[]));
  for (const [, names, from] of imports) {
    const missing = names
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n && !copied.has(n));
    if (from !== "./defaults" || missing.length > 0) {
      throw new Error(
        `${FORMATS_SOURCE} may import only POLICY_CONSTANT_SOURCES names from ./defaults (${from}: ${missing.join(", ")})`,
      );
    }
  }
  return [...GENERATED_HEADER(FORMATS_SOURCE), source.replace(/ from "\.\/defaults";$/gm, ' from "./constants";')].join(
    "\n",
  );
}

if (require.main === module) {
  fs.mkdirSync(path.dirname(POLICY_CONSTANTS_FILE), { recursive: true });
  fs.writeFileSync(POLICY_CONSTANTS_FILE, renderPolicyConstants());
  fs.writeFileSync(POLICY_FORMATS_FILE, renderPolicyFormats());
  process.stdout.write(
    `wrote ${path.relative(ROOT, POLICY_CONSTANTS_FILE)}, ${path.relative(ROOT, POLICY_FORMATS_FILE)}\n`,
  );
}
