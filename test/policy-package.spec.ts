/**
 * The policy pack as a package of its own: its generated constants match components/defaults.ts, its
 * lockfile matches its package.json (so `npm ci` works in policy/), and `pulumi policy publish`'s way
 * of packing it yields a pack that installs and loads with nothing of the repository around it.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { policies } from "../policy/policies";
import {
  POLICY_CONSTANTS_FILE,
  POLICY_FORMATS_FILE,
  renderPolicyConstants,
  renderPolicyFormats,
} from "../scripts/gen-policy-constants";
import { RunningPolicyPack, startPolicyPack } from "../testkit/policyPackProcess";

const ROOT = path.resolve(__dirname, "..");
const POLICY_DIR = path.join(ROOT, "policy");
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

describe("policy pack: generated constants and lockfile", () => {
  it("carries exactly what `npm run gen:policy` writes from components/defaults.ts", () => {
    assert.equal(
      fs.readFileSync(POLICY_CONSTANTS_FILE, "utf8"),
      renderPolicyConstants(),
      "policy/generated/constants.ts is stale: run npm run gen:policy",
    );
  });

  it("carries exactly the copy of components/azureFormats.ts that `npm run gen:policy` writes", () => {
    assert.equal(
      fs.readFileSync(POLICY_FORMATS_FILE, "utf8"),
      renderPolicyFormats(),
      "policy/generated/azureFormats.ts is stale: run npm run gen:policy",
    );
  });

  it("has a package-lock.json that pins what package.json asks for, so npm ci works in policy/", () => {
    const manifest = readJson(path.join(POLICY_DIR, "package.json"));
    const root = readJson(path.join(POLICY_DIR, "package-lock.json")).packages[""];
    assert.equal(root.name, manifest.name);
    assert.deepEqual(root.dependencies, manifest.dependencies);
    assert.deepEqual(root.devDependencies, manifest.devDependencies);
  });
});

/**
 * `pulumi policy publish` runs `npm pack` in the pack's directory (pkg/backend/httpstate/policypack.go,
 * sdk/nodejs/npm Pack); whoever uses the published pack gets the tarball's `package/` folder, where
 * the CLI runs `npm install` and then starts it through run-policy-pack. Here the tarball is unpacked
 * in the system temp directory, outside the repository, so Node cannot fall back on the repository's
 * node_modules or on ../components. The install reuses npm's cache (`--prefer-offline`).
 */
describe("policy pack: published as `pulumi policy publish` packs it", function () {
  this.timeout(180_000);
  let workDir: string;
  let installedDir: string;
  let pack: RunningPolicyPack | undefined;

  before(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-publish-"));
    const npm = (args: string[], cwd: string) =>
      execFileSync("npm", [...args, "--loglevel=error"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const tarball = npm(["pack", "--pack-destination", workDir], POLICY_DIR).trim().split("\n").pop()!;
    execFileSync("tar", ["-xzf", path.join(workDir, tarball), "-C", workDir]);
    installedDir = path.join(workDir, "package");
    npm(["install", "--no-audit", "--no-fund", "--prefer-offline"], installedDir);
  });

  after(() => {
    pack?.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it("installs outside the repository", () => {
    assert.ok(path.relative(ROOT, installedDir).startsWith(".."), installedDir);
    assert.ok(fs.existsSync(path.join(installedDir, "node_modules", "@pulumi", "policy")));
  });

  it("packs the pack's own files only: no lockfile, no node_modules, nothing from the repository", () => {
    const files = fs
      .readdirSync(installedDir, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile() && !path.join(f.parentPath, f.name).includes(`${path.sep}node_modules${path.sep}`))
      .map((f) => path.relative(installedDir, path.join(f.parentPath, f.name)))
      .filter((f) => f !== "package-lock.json") // written by the install above, not packed
      .sort();
    const expected = fs
      .readdirSync(POLICY_DIR)
      .filter(
        (f) => f.endsWith(".ts") || ["PulumiPolicy.yaml", "README.md", "package.json", "tsconfig.json"].includes(f),
      )
      .concat(fs.readdirSync(path.join(POLICY_DIR, "generated")).map((f) => path.join("generated", f)))
      .sort();
    assert.deepEqual(files, expected);
  });

  it("loads as the CLI loads it, type-checked, and announces every policy over gRPC", async () => {
    pack = await startPolicyPack(installedDir);
    const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
    const info: any = await pack.call("getAnalyzerInfo", new Empty());
    assert.equal(info.getName(), "hpc-workers");
    assert.equal(info.getVersion(), readJson(path.join(POLICY_DIR, "package.json")).version);
    assert.deepEqual(
      info.getPoliciesList().map((p: any) => p.getName()),
      policies.map((p) => p.name),
    );
  });
});
