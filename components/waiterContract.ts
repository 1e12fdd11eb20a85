/**
 * What the component needs to know about the waiter agent: its final exit codes (which
 * must not restart-loop the unit) and where the built bundle is.
 */
import * as fs from "fs";
import * as path from "path";

import { EXIT_CODES } from "../agent/src/core/exitCodes";
import { DEFAULT_TIMEOUT_SECONDS } from "../agent/src/core/constants";

/** The waiter's default --timeout, used when timeoutSeconds is not set. */
export const DEFAULT_WAITER_TIMEOUT_SECONDS = DEFAULT_TIMEOUT_SECONDS;

/**
 * The launcher exits with WAITER_EXIT_OFFSET + the waiter's code when the waiter says no,
 * so that the unit's RestartPreventExitStatus cannot swallow a worker that happens to exit
 * 2..5 (common for workers; argparse uses 2).
 */
export const WAITER_EXIT_OFFSET = 90;
export const WAITER_EXIT_CODES = EXIT_CODES;
/**
 * Final answers, as the unit sees them: every code the waiter defines but success (usage, gone,
 * failed, timeout, and any the agent adds) is a decision that waiting longer cannot change, so
 * none may restart-loop. 1 (an uncaught error, a bug) is Node's own and stays restartable.
 */
export const WAITER_FINAL_EXIT_CODES: readonly number[] = Object.values(EXIT_CODES as Record<string, number>)
  .filter((code) => code !== EXIT_CODES.succeeded)
  .map((code) => WAITER_EXIT_OFFSET + code)
  .sort((a, b) => a - b);

/** The oldest Node.js the bundle runs on: esbuild's `--target=node12` in package.json's build:agent. */
export const WAITER_MIN_NODE_MAJOR = 12;

const BUNDLE_RELATIVE = path.join("agent", "dist", "waiter.js");

/** The package root, from components/ (ts-node) or bin/components/ (published build): the nearest of the two
 *  parents that holds a package.json. */
export function packageRoot(from: string = __dirname): string {
  for (const candidate of [path.resolve(from, ".."), path.resolve(from, "..", "..")]) {
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
  }
  throw new Error(`no package.json above ${from}: the component runs from components/ or bin/components/`);
}

const bundles = new Map<string, string>();

/** The compiled waiter, read once per package. It is built by `npm run build` (CI and `npm ci` run it). */
export function loadAgentBundle(root: string = packageRoot()): string {
  const file = path.join(root, BUNDLE_RELATIVE);
  let bundle = bundles.get(file);
  if (bundle === undefined) {
    if (!fs.existsSync(file)) {
      throw new Error(`the waiter agent is not built: ${file} is missing; run \`npm run build\` first`);
    }
    bundle = fs.readFileSync(file, "utf8");
    bundles.set(file, bundle);
  }
  return bundle;
}
