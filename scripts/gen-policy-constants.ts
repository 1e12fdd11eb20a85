/**
 * npm run gen:policy
 *
 * Writes policy/generated/constants.ts: the constants of components/defaults.ts that the policy pack
 * needs, each with its doc comment. `pulumi policy publish` packs only policy/, so the pack cannot
 * import ../components; it carries this generated copy instead, and test/policy-package.spec.ts fails
 * when the committed file differs from what this script writes.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import * as defaults from "../components/defaults";

const ROOT = path.resolve(__dirname, "..");
const SOURCE = "components/defaults.ts";
export const POLICY_CONSTANTS_FILE = path.join(ROOT, "policy", "generated", "constants.ts");

/** What the pack reads: the shipped paths it recognises, the platform limits, the role it expects and what Azure accepts for Spot. */
export const POLICY_CONSTANT_NAMES = [
  "MAX_CUSTOM_DATA_BYTES",
  "READER_ROLE_DEFINITION_GUID",
  "WAITER_PATH",
  "LAUNCHER_PATH",
  "WORKER_COMMAND_PATH",
  "WORKER_UNIT",
  "DEFAULT_MAX_PRICE",
  "MAX_PRICE_DECIMALS",
  "MIN_TERMINATE_NOTIFICATION_SECONDS",
  "MAX_TERMINATE_NOTIFICATION_SECONDS",
] as const satisfies readonly (keyof typeof defaults)[];

/** The `/** … *\/` comment right above `export const NAME`, if any. */
function docComments(sourceText: string): Map<string, string> {
  const file = ts.createSourceFile(SOURCE, sourceText, ts.ScriptTarget.ES2020, true);
  const docs = new Map<string, string>();
  for (const statement of file.statements) {
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
  const docs = docComments(fs.readFileSync(path.join(ROOT, SOURCE), "utf8"));
  const body = POLICY_CONSTANT_NAMES.map((name) => {
    const doc = docs.get(name);
    return `${doc ? `${doc}\n` : ""}export const ${name} = ${JSON.stringify(defaults[name])};\n`;
  });
  return [
    `// Generated from ${SOURCE} by \`npm run gen:policy\` (scripts/gen-policy-constants.ts) — do not edit.`,
    "// The pack is published alone, so it carries this copy; a test fails when it is out of date.",
    "",
    body.join("\n"),
  ].join("\n");
}

if (require.main === module) {
  fs.mkdirSync(path.dirname(POLICY_CONSTANTS_FILE), { recursive: true });
  fs.writeFileSync(POLICY_CONSTANTS_FILE, renderPolicyConstants());
  process.stdout.write(`wrote ${path.relative(ROOT, POLICY_CONSTANTS_FILE)}\n`);
}
