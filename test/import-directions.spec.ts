/**
 * Which way imports may point: the policy pack imports nothing outside policy/ (it is published
 * alone) and only the packages its own package.json installs; nothing outside test/ imports test/.
 */
import { strict as assert } from "assert";
import { builtinModules } from "module";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");
const SKIPPED_DIRS = new Set(["node_modules", "bin", "dist", ".cache", ".work", ".git"]);

function typeScriptFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : typeScriptFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Every module specifier a file imports, exports from or requires. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

const inside = (dir: string, file: string) => !path.relative(dir, file).startsWith("..");

/** `@scope/name/deep/path` → `@scope/name`; `name/deep` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

describe("import directions", () => {
  it("policy/ imports nothing outside policy/, and only packages policy/package.json installs", () => {
    const policyDir = path.join(ROOT, "policy");
    const manifest = JSON.parse(fs.readFileSync(path.join(policyDir, "package.json"), "utf8"));
    const installed = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)]);
    const files = typeScriptFiles(policyDir);
    assert.ok(files.length >= 10, `found only ${files.length} files under policy/`);
    const wrong: string[] = [];
    for (const file of files) {
      for (const specifier of importsOf(file)) {
        const where = `${path.relative(ROOT, file)} imports "${specifier}"`;
        if (specifier.startsWith(".")) {
          if (!inside(policyDir, path.resolve(path.dirname(file), specifier))) wrong.push(`${where}: outside policy/`);
        } else if (
          !builtinModules.includes(specifier.replace(/^node:/, "")) &&
          !installed.has(packageName(specifier))
        ) {
          wrong.push(`${where}: not a dependency in policy/package.json`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("nothing outside test/ imports test/", () => {
    const testDir = path.join(ROOT, "test");
    const wrong = typeScriptFiles(ROOT)
      .filter((file) => !inside(testDir, file))
      .flatMap((file) =>
        importsOf(file)
          .filter((s) => s.startsWith(".") && inside(testDir, path.resolve(path.dirname(file), s)))
          .map((s) => `${path.relative(ROOT, file)} imports "${s}"`),
      );
    assert.deepEqual(wrong, []);
  });
});
