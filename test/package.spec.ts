/** What another stack gets from `import ... from "hpc-workers"`: the compiled library, not the sources. */
import { strict as assert } from "assert";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

describe("the hpc-workers package", () => {
  it("resolves to the compiled bin/components, with its types (run `npm run build` first)", () => {
    const resolved = require.resolve("hpc-workers");
    assert.equal(resolved, path.join(ROOT, "bin", "components", "index.js"));
    const pkg = require("../package.json");
    assert.equal(pkg.types, "bin/components/index.d.ts");
    assert.ok(require("fs").existsSync(path.join(ROOT, pkg.types)), `${pkg.types} is missing`);
  });

  it("exports the component, the modes and renderCustomData, which finds the bundled waiter from bin/", () => {
    const lib = require("hpc-workers");
    assert.equal(typeof lib.WorkerScaleSet, "function");
    assert.deepEqual(lib.DeliveryMode, { Systemd: "systemd", CloudInit: "cloudInit", CustomScript: "customScript" });
    const text: string = lib.renderCustomData({ delivery: lib.DeliveryMode.Systemd, workerCommand: "true" });
    assert.ok(text.startsWith("#cloud-config\n"));
    assert.ok(text.includes(lib.WAITER_PATH));
  });

  it("packs every file the compiled library requires, and the waiter bundle", function () {
    this.timeout(60000);
    const { execFileSync } = require("child_process");
    const packed: string[] = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" }),
    )[0].files.map((f: { path: string }) => f.path);
    assert.ok(packed.includes("agent/dist/waiter.js"));
    const fs = require("fs");
    for (const file of packed.filter((f) => f.startsWith("bin/") && f.endsWith(".js"))) {
      const source: string = fs.readFileSync(path.join(ROOT, file), "utf8");
      for (const [, spec] of source.matchAll(/require\("(\.[^"]+)"\)/g)) {
        const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)) + ".js";
        assert.ok(packed.includes(target), `${file} requires ${spec}, which the package leaves out`);
      }
    }
  });
});
