/**
 * The launcher's decisions, run as rendered with stub commands: the waiter's arguments, its final
 * codes, the crash-loop back-off, and the wait for Node.js while hpc-node-install.service works,
 * ending in the final "no usable Node.js" status when it cannot.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { DeliveryMode, KEPT_FILE_PATH, LAUNCHER_PATH, renderCustomData } from "../components";
import { LAUNCHER_NO_USABLE_NODE_EXIT, NODE_WAIT_GRACE_SECONDS, NODE_WAIT_POLL_SECONDS } from "../components/launcher";
import { WAITER_EXIT_OFFSET, WAITER_MIN_NODE_MAJOR } from "../components/waiterContract";
import { parseCloudConfig, writeFile } from "../testkit/cloudConfig";
import { NODE_PATH_ENV, nodeStub, runLauncher, tempDir } from "../testkit/vmScripts";

const render = (opts: { overprovision?: boolean; installNodejs?: boolean; timeoutSeconds?: number } = {}) =>
  writeFile(
    parseCloudConfig(
      renderCustomData({
        delivery: DeliveryMode.Systemd,
        workerCommand: "w",
        overprovision: opts.overprovision ?? false,
        installNodejs: opts.installNodejs,
        timeoutSeconds: opts.timeoutSeconds ?? 900,
        imdsUrl: "http://127.0.0.1:9",
        agentBundle: "//",
      }),
    ),
    LAUNCHER_PATH,
  );

/** A `systemctl show` stub answering the installer's ActiveState with `state` (or failing when undefined). */
const systemctl = (state: string | undefined, before = "") =>
  `${before}\n${state === undefined ? "echo 'Failed to connect to bus' >&2; exit 1" : `echo ${state}`}`;

/** Shell lines that install a `node` stub where the launcher looks for it, as the installer would. */
const INSTALL_NODE = `printf '%s\\n' '#!/bin/sh' '${nodeStub("v18.19.0").replace(/\n/g, "' '")}' > "$${NODE_PATH_ENV}"; chmod +x "$${NODE_PATH_ENV}"`;

/** A recording `sleep` stub that installs node after `n` sleeps. */
const installNodeAfterSleeps = (n: number) =>
  `echo "$1" >> "$ARGV_OUT.sleeps"\nif [ "$(wc -l < "$ARGV_OUT.sleeps")" -ge ${n} ]; then ${INSTALL_NODE}; fi`;

describe("the launcher", function () {
  this.timeout(60000);
  let dir: string;
  let missingNode: string;
  beforeEach(() => {
    dir = tempDir("hpc-launcher-spec-");
    missingNode = path.join(dir, "node");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("passes --kept-file (when the scale set overprovisions) and the waiter settings only as configured", () => {
    assert.deepEqual(JSON.parse(runLauncher(render({ overprovision: true }), Buffer.from("w")).waiterArgs), [
      "--timeout",
      "900",
      "--kept-file",
      KEPT_FILE_PATH,
      "--imds-url",
      "http://127.0.0.1:9",
    ]);
    assert.deepEqual(JSON.parse(runLauncher(render(), Buffer.from("w")).waiterArgs), [
      "--timeout",
      "900",
      "--imds-url",
      "http://127.0.0.1:9",
    ]);
  });

  for (const [waiterExit, meaning] of [
    [2, "usage"],
    [3, "gone"],
    [4, "failed"],
    [5, "timeout"],
    [6, "refused"],
  ] as const) {
    it(`never starts the worker when the waiter says ${meaning}, and exits ${WAITER_EXIT_OFFSET + waiterExit} so the unit does not restart`, () => {
      const result = runLauncher(render({ overprovision: true }), Buffer.from("w"), { waiterExit });
      assert.equal(result.status, WAITER_EXIT_OFFSET + waiterExit);
      assert.equal(result.argv, undefined, "the worker shell must not run");
      assert.match(result.stderr, new RegExp(`waiter exited with ${waiterExit}; the worker is not started`));
    });
  }

  it("backs off when the worker keeps stopping soon after it starts", () => {
    const runtimeDir = tempDir("hpc-backoff-");
    try {
      const launcher = render();
      const slept = [0, 1, 2, 3, 4].flatMap(() => runLauncher(launcher, Buffer.from("w"), { runtimeDir }).sleeps);
      assert.deepEqual(slept, [5, 10, 20, 40]);
    } finally {
      fs.rmSync(runtimeDir, { recursive: true, force: true });
    }
  });

  it("waits for node while the installer runs, saying so once, then runs the waiter and the worker", () => {
    const run = runLauncher(render(), Buffer.from("w"), {
      node: missingNode,
      stubs: { systemctl: systemctl("active"), sleep: installNodeAfterSleeps(3) },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.sleeps, [NODE_WAIT_POLL_SECONDS, NODE_WAIT_POLL_SECONDS, NODE_WAIT_POLL_SECONDS]);
    assert.equal(run.stderr.match(/waiting for Node\.js: hpc-node-install\.service is installing it/g)?.length, 1);
    assert.ok(run.waiterArgs, "the waiter ran");
    assert.ok(run.argv, "the worker ran");
  });

  it("ends final (89), without the waiter or the worker, once the installer has failed", () => {
    const run = runLauncher(render(), Buffer.from("w"), {
      node: missingNode,
      stubs: { systemctl: systemctl("failed") },
    });
    assert.equal(run.status, LAUNCHER_NO_USABLE_NODE_EXIT);
    assert.equal(run.waiterArgs, "", "the waiter must not run");
    assert.equal(run.argv, undefined, "the worker must not run");
    assert.match(
      run.stderr,
      /final: no usable Node\.js: hpc-node-install\.service is failed and left no node \(journalctl -u hpc-node-install says why\)\. .*unit exit status 89, not restarted.*systemctl restart hpc-worker/,
    );
  });

  it("goes on when the installer finished between its two looks (node appeared as it stopped)", () => {
    const run = runLauncher(render(), Buffer.from("w"), {
      node: missingNode,
      stubs: {
        systemctl: systemctl("inactive", INSTALL_NODE),
      },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.argv, "the worker ran");
  });

  it("keeps waiting while systemd cannot be asked, and ends final after the installer's deadline and a grace", () => {
    const run = runLauncher(render({ timeoutSeconds: 30 }), Buffer.from("w"), {
      node: missingNode,
      stubs: { systemctl: systemctl(undefined) },
    });
    assert.equal(run.status, LAUNCHER_NO_USABLE_NODE_EXIT);
    assert.equal(
      run.sleeps.reduce((a, b) => a + b, 0),
      Math.ceil((30 + NODE_WAIT_GRACE_SECONDS) / NODE_WAIT_POLL_SECONDS) * NODE_WAIT_POLL_SECONDS,
    );
    assert.match(run.stderr, /systemd cannot tell whether hpc-node-install\.service runs/);
  });

  it("with installNodejs false, ends final at once on an image without node, saying what to do", () => {
    const run = runLauncher(render({ installNodejs: false }), Buffer.from("w"), { node: missingNode });
    assert.equal(run.status, LAUNCHER_NO_USABLE_NODE_EXIT);
    assert.deepEqual(run.sleeps, []);
    assert.match(run.stderr, /installNodejs is false and the image has no node: use an image with Node\.js >= 12/);
    assert.doesNotMatch(render({ installNodejs: false }), /hpc-node-install\.service is installing/);
  });

  it("ends final when the installer is done and node is too old to run the waiter (Ubuntu 20.04 ships 10)", () => {
    const oldNode = path.join(dir, "old-node");
    fs.writeFileSync(oldNode, `#!/bin/sh\n${nodeStub("v10.19.0", false)}\n`, { mode: 0o755 });
    const run = runLauncher(render(), Buffer.from("w"), { node: oldNode, stubs: { systemctl: systemctl("inactive") } });
    assert.equal(run.status, LAUNCHER_NO_USABLE_NODE_EXIT);
    assert.equal(run.waiterArgs, "");
    assert.match(
      run.stderr,
      /hpc-node-install\.service is inactive and left node v10\.19\.0, which cannot run the waiter \(it needs Node\.js >= 12\)/,
    );
  });

  it("waits while node exists but does not run yet (dpkg unpacks node before libnode), then goes on", () => {
    // A node that fails its first 3 runs, as /usr/bin/node does until libnode is unpacked.
    const unpacking = path.join(dir, "node");
    fs.writeFileSync(
      unpacking,
      `#!/bin/sh\necho x >> "${dir}/runs"\n[ "$(wc -l < "${dir}/runs")" -gt 3 ] || exit 127\nexec node "$@"\n`,
      { mode: 0o755 },
    );
    const run = runLauncher(render(), Buffer.from("w"), { node: unpacking, stubs: { systemctl: systemctl("active") } });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.sleeps.length >= 2, `it waited (${run.sleeps.length} sleeps)`);
    assert.ok(run.argv, "the worker ran");
  });

  it("enforces the Node.js floor the bundle is built for (esbuild's --target in build:agent)", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
    assert.match(pkg.scripts["build:agent"], new RegExp(`--target=node${WAITER_MIN_NODE_MAJOR}( |$)`));
    assert.match(render(), new RegExp(`>= ${WAITER_MIN_NODE_MAJOR} \\? 0 : 1`));
  });

  it("reports each phase on systemctl status's Status: line, and hands the worker no NOTIFY_SOCKET", () => {
    const run = runLauncher(render(), Buffer.from("w"), { env: { NOTIFY_SOCKET: "/run/systemd/notify" } });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(
      run.notified.map((n) => n.replace(/\(node v[\d.]+\)/, "(node vX)")),
      [
        "--status=waiting for Azure to report this VM Succeeded (node vX)",
        "--status=this VM is Succeeded; starting the worker",
      ],
    );
    assert.equal(run.argv?.notifySocket, "");
    const final = runLauncher(render(), Buffer.from("w"), {
      node: missingNode,
      env: { NOTIFY_SOCKET: "/run/systemd/notify" },
      stubs: { systemctl: systemctl("failed") },
    });
    assert.match(final.notified[final.notified.length - 1], /^--status=final: no usable Node\.js: /);
  });
});
