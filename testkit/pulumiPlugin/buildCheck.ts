/**
 * The provider runs the compiled library (package.json main, bin/components) and ships the
 * bundled waiter (agent/dist/waiter.js), both made by `npm run build`, which `npm install`
 * runs through `prepare` and `npm test` runs first. A test that starts the provider checks
 * they are newer than their sources, so that it never passes or fails on a stale build.
 */
import * as fs from "fs";
import * as path from "path";

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [file] : [];
  });
}

const mtime = (file: string) => fs.statSync(file).mtimeMs;

/** Throws, naming the stale output and the command that rebuilds it. */
export function assertLibraryBuilt(root: string): void {
  const fix = "run `npm run build` first";
  for (const source of sources(path.join(root, "components"))) {
    const built = path.join(root, "bin", path.relative(root, source)).replace(/\.ts$/, ".js");
    if (!fs.existsSync(built)) throw new Error(`${path.relative(root, built)} is missing: ${fix}`);
    if (mtime(built) < mtime(source)) throw new Error(`${path.relative(root, built)} is older than its source: ${fix}`);
  }
  const bundle = path.join(root, "agent", "dist", "waiter.js");
  if (!fs.existsSync(bundle)) throw new Error(`agent/dist/waiter.js is missing: ${fix}`);
  const newest = Math.max(...sources(path.join(root, "agent", "src")).map(mtime));
  if (mtime(bundle) < newest) throw new Error(`agent/dist/waiter.js is older than agent/src: ${fix}`);
}
