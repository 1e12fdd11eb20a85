/**
 * The bundle's contract: built by esbuild for node12, nothing newer than Node 12 in it (syntax
 * or API), only core modules, within GZIP_BUDGET_BYTES gzipped.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { BUNDLE, ensureBundle, REPO_ROOT, runWaiterProcess } from "../testkit/fake-azure/agentProcess";

// acorn comes with ts-node (a devDependency); it parses exactly one ECMAScript edition.

const acorn: { parse(code: string, opts: { ecmaVersion: number }): unknown } = require("acorn");

const esbuild: typeof import("esbuild") = require("esbuild");

/** Node 12 implements ES2019 in full; ?. and ?? (ES2020) arrived in Node 14. */
const NODE12_ECMA_VERSION = 2019;
/**
 * The waiter, the health server and the drain watcher share one bundle: 12,911 bytes gzipped when
 * issues 12 and 13 met (about 33 KB plain), with about 1 KB of headroom. The bundle ships as plain
 * text in custom data, which Azure caps at 65,535 bytes (MAX_CUSTOM_DATA_BYTES,
 * learn.microsoft.com/rest/api/compute/virtual-machine-scale-sets/create-or-update,
 * VirtualMachineScaleSetOSProfile), next to the units, scripts and the worker command: the
 * budget is what keeps the agent from crowding the user's share out. Raising it is a decision.
 */
const GZIP_BUDGET_BYTES = 14_000;
const ALLOWED_MODULES = ["http", "https", "child_process", "fs", "os"];
/** Globals and methods newer than Node 12 that esbuild does not polyfill. */
const NEWER_APIS: Array<[RegExp, string]> = [
  [/\bAbortController\b/, "AbortController (Node 15)"],
  [/\bAbortSignal\b/, "AbortSignal (Node 15)"],
  [/\bfetch\s*\(/, "fetch (Node 18)"],
  [/timers\/promises/, "timers/promises (Node 15)"],
  [/\bstructuredClone\b/, "structuredClone (Node 17)"],
  [/\.replaceAll\s*\(/, "String.prototype.replaceAll (Node 15)"],
  [/\.at\s*\(-?\d/, "Array.prototype.at (Node 16.6)"],
  [/\bObject\.hasOwn\b/, "Object.hasOwn (Node 16.9)"],
  [/\.findLast(Index)?\s*\(/, "findLast (Node 18)"],
  [/\bPromise\.any\b/, "Promise.any (Node 15)"],
  [/\bAggregateError\b/, "AggregateError (Node 15)"],
  [/\bWeakRef\b/, "WeakRef (Node 14.6)"],
  [/node:/, "node: specifiers (Node 14.18)"],
];

describe("agent bundle (agent/dist/waiter.js)", function () {
  this.timeout(30000);
  let code: string;

  before(() => {
    ensureBundle();
    code = fs.readFileSync(BUNDLE, "utf8");
  });

  it("is built by the package script with esbuild --bundle --platform=node --target=node12", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    const script: string = pkg.scripts["build:agent"];
    for (const flag of [
      "esbuild",
      "agent/src/main.ts",
      "--bundle",
      "--platform=node",
      "--target=node12",
      "--outfile=agent/dist/waiter.js",
    ]) {
      assert.ok(script.indexOf(flag) >= 0, `build:agent lacks ${flag}: ${script}`);
    }
    const result = esbuild.buildSync({
      entryPoints: [path.join(REPO_ROOT, "agent", "src", "main.ts")],
      bundle: true,
      platform: "node",
      target: "node12",
      minify: true,
      write: false,
      logLevel: "silent",
    });
    assert.equal(result.errors.length, 0);
    assert.equal(result.warnings.length, 0, JSON.stringify(result.warnings));
  });

  it("parses as ES2019, the syntax Node 12 runs (no ?. or ??)", () => {
    assert.doesNotThrow(() => acorn.parse(code, { ecmaVersion: NODE12_ECMA_VERSION }));
    // The check can fail: ES2020 syntax is refused at this edition.
    assert.throws(() => acorn.parse("a?.b ?? c", { ecmaVersion: NODE12_ECMA_VERSION }));
  });

  it("uses no API newer than Node 12", () => {
    for (const [re, what] of NEWER_APIS) assert.ok(!re.test(code), `the bundle uses ${what}`);
  });

  it("requires only core modules", () => {
    const required = new Set<string>();
    const re = /require\(["']([^"']+)["']\)/g;
    for (let m = re.exec(code); m; m = re.exec(code)) required.add(m[1]);
    assert.ok(required.size > 0);
    for (const name of required) assert.ok(ALLOWED_MODULES.indexOf(name) >= 0, `requires ${name}`);
  });

  it(`stays within ${GZIP_BUDGET_BYTES} bytes gzipped`, () => {
    const gz = zlib.gzipSync(Buffer.from(code), { level: 9 }).length;
    assert.ok(gz <= GZIP_BUDGET_BYTES, `${gz} bytes gzipped`);
  });

  it("runs standalone from any directory, with nothing installed beside it", async () => {
    const dir = fs.mkdtempSync(path.join(require("os").tmpdir(), "waiter-"));
    const copy = path.join(dir, "waiter.js");
    fs.copyFileSync(BUNDLE, copy);
    const run = await runWaiterProcess(["--help"]);
    assert.equal(run.code, 0);
    const { execFileSync } = require("child_process");
    const out = execFileSync(process.execPath, [copy, "--help"], { cwd: dir }).toString();
    assert.match(out, /usage: waiter\.js/);
    fs.rmSync(dir, { recursive: true });
  });
});
