/**
 * Where the component finds the compiled waiter it ships: the package root seen from components/
 * (ts-node, the tests) and from bin/components/ (the published build the provider runs), and the
 * error that names the fix when the bundle was never built.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadAgentBundle, packageRoot } from "../components/waiterContract";

const ROOT = path.resolve(__dirname, "..");

describe("the waiter bundle's location", () => {
  it("finds the package root from components/ and from bin/components/", () => {
    assert.equal(packageRoot(path.join(ROOT, "components")), ROOT);
    assert.equal(packageRoot(path.join(ROOT, "bin", "components")), ROOT);
    assert.equal(packageRoot(), ROOT, "the default is this module's own folder");
  });

  it("prefers the nearer parent, and says where it looked when neither holds a package.json", () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "hpc-root-"));
    try {
      const inner = path.join(top, "pkg", "bin", "components");
      fs.mkdirSync(inner, { recursive: true });
      assert.throws(() => packageRoot(inner), new RegExp(`no package.json above ${inner.replace(/[/\\]/g, ".")}`));
      fs.writeFileSync(path.join(top, "pkg", "package.json"), "{}");
      assert.equal(packageRoot(inner), path.join(top, "pkg"));
      fs.writeFileSync(path.join(top, "pkg", "bin", "package.json"), "{}");
      assert.equal(packageRoot(inner), path.join(top, "pkg", "bin"));
    } finally {
      fs.rmSync(top, { recursive: true, force: true });
    }
  });

  it("reads agent/dist/waiter.js under the root, and names npm run build when it is missing", () => {
    const bundle = loadAgentBundle(ROOT);
    assert.equal(bundle, fs.readFileSync(path.join(ROOT, "agent", "dist", "waiter.js"), "utf8"));
    assert.equal(loadAgentBundle(), bundle);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "hpc-unbuilt-"));
    try {
      assert.throws(
        () => loadAgentBundle(empty),
        (err: Error) =>
          err.message ===
          `the waiter agent is not built: ${path.join(empty, "agent", "dist", "waiter.js")} is missing; run \`npm run build\` first`,
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
