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
/** Final answers (usage, gone, failed, timeout, refused), as the unit sees them: no restart-loop. */
export const WAITER_FINAL_EXIT_CODES: readonly number[] = [
  EXIT_CODES.usage,
  EXIT_CODES.gone,
  EXIT_CODES.failed,
  EXIT_CODES.timeout,
  EXIT_CODES.refused,
].map((code) => WAITER_EXIT_OFFSET + code);

const BUNDLE_RELATIVE = path.join("agent", "dist", "waiter.js");

/** The package root, from components/ (ts-node) or bin/components/ (published build). */
function packageRoot(): string {
  for (const candidate of [path.resolve(__dirname, ".."), path.resolve(__dirname, "..", "..")]) {
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
  }
  return path.resolve(__dirname, "..");
}

let cachedBundle: string | undefined;

/** The compiled waiter, read once. It is built by `npm run build` (CI and `npm ci` run it). */
export function loadAgentBundle(): string {
  if (cachedBundle === undefined) {
    const file = path.join(packageRoot(), BUNDLE_RELATIVE);
    if (!fs.existsSync(file)) {
      throw new Error(`the waiter agent is not built: ${file} is missing; run \`npm run build\` first`);
    }
    cachedBundle = fs.readFileSync(file, "utf8");
  }
  return cachedBundle;
}
