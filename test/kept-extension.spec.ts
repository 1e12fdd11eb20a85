/**
 * The kept-proof extension's command, run as the Custom Script Extension runs it (`/bin/sh -c`,
 * the exact commandToExecute the component declares) against the fake IMDS, with only its
 * `kept=` line pointed at a temporary file.
 */
import { strict as assert } from "assert";
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  DeliveryMode,
  KEPT_EXTENSION_NAME,
  KEPT_FILE_PATH,
  KEPT_PROOF_IMDS_TRIES,
  START_EXTENSION_NAME,
  renderExtensions,
} from "../components";
import { holdsVmId } from "../agent/src/core/keptFile";
import { FakeAzure, faults } from "../testkit/fake-azure";

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Async, so the fake in this process can answer while the shell runs. */
function sh(command: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", command], { env, encoding: "utf8" }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** The command of the one extension of this mode, writing to `keptFile` instead of KEPT_FILE_PATH. */
function extensionCommand(delivery: DeliveryMode, imdsUrl: string, keptFile: string): string {
  const extensions = renderExtensions({ delivery, overprovision: true, imdsUrl });
  assert.equal(extensions.length, 1);
  const command = extensions[0].settings.commandToExecute;
  assert.equal(command.split(KEPT_FILE_PATH).length, 2, "the command names the kept file once, on its kept= line");
  const pointed = command.replace(/^kept=.*$/m, `kept='${keptFile}'`);
  assert.notEqual(pointed, command, "the command's kept= line moved; update the test");
  return pointed;
}

/** A directory of symlinks to the tools the command uses, but not curl: an image without curl. */
function pathWithoutCurl(dir: string, extra: Record<string, string> = {}): string {
  const python = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
  fs.symlinkSync(python, path.join(dir, "python3"));
  for (const tool of ["sleep", "mkdir", "mktemp", "rm", "chmod", "sync", "mv"]) {
    const found = execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
    fs.symlinkSync(found, path.join(dir, tool));
  }
  for (const [name, script] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), script, { mode: 0o755 });
  return dir;
}

describe("the kept-proof extension command", function () {
  this.timeout(60000);
  let fake: FakeAzure;
  let url: string;
  let work: string;
  let kept: string;

  beforeEach(async () => {
    fake = new FakeAzure();
    url = await fake.listen(0, "127.0.0.1");
    work = fs.mkdtempSync(path.join(os.tmpdir(), "hpc-kept-"));
    kept = path.join(work, "state", "dir", "kept");
  });
  afterEach(async () => {
    await fake.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("writes this VM's IMDS vmId, which the waiter accepts, 0644, in a directory it creates, leaving no temporary file", async () => {
    const run = await sh(extensionCommand(DeliveryMode.Systemd, url, kept));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.readFileSync(kept, "utf8"), `${fake.vmId}\n`);
    assert.ok(holdsVmId(fs.readFileSync(kept, "utf8"), fake.vmId), "the waiter's own comparison accepts it");
    assert.equal(fs.statSync(kept).mode & 0o777, 0o644);
    assert.deepEqual(fs.readdirSync(path.dirname(kept)), ["kept"]);
    assert.match(run.stdout, new RegExp(`wrote its vmId ${fake.vmId}`));
    const reads = fake.callsTo("imds");
    assert.equal(reads.length, 1);
    assert.equal(reads[0].path, "/metadata/instance/compute/vmId");
    assert.deepEqual(reads[0].query, { "api-version": "2021-02-01", format: "text" });
    assert.equal(reads[0].headers["metadata"], "true");
  });

  it("replaces a kept file that holds another VM's id (an image captured from a worker)", async () => {
    fs.mkdirSync(path.dirname(kept), { recursive: true });
    fs.writeFileSync(kept, "11111111-2222-3333-4444-555555555555\n", { mode: 0o600 });
    const run = await sh(extensionCommand(DeliveryMode.CloudInit, url, kept));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.readFileSync(kept, "utf8"), `${fake.vmId}\n`);
    assert.equal(fs.statSync(kept).mode & 0o777, 0o644);
  });

  it("goes to IMDS directly even when a proxy is configured", async () => {
    const proxy = "http://127.0.0.1:9";
    const env = { ...process.env, http_proxy: proxy, HTTP_PROXY: proxy, all_proxy: proxy, ALL_PROXY: proxy };
    const run = await sh(extensionCommand(DeliveryMode.Systemd, url, kept), env);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.readFileSync(kept, "utf8"), `${fake.vmId}\n`);
  });

  it("retries IMDS answers that are not a vmId (410, 500, a garbage 200) and then writes it", async () => {
    fake.fail("imds", faults.imdsGone(), 1);
    fake.fail("imds", faults.serverError(), 1);
    fake.fail("imds", faults.garbage("<html>not a vmId</html>"), 1);
    const run = await sh(extensionCommand(DeliveryMode.Systemd, url, kept));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fake.callsTo("imds").length, 4);
    assert.equal(fs.readFileSync(kept, "utf8"), `${fake.vmId}\n`);
  });

  it("abandons a hung IMDS request at its deadline and tries again", async () => {
    fake.fail("imds", faults.hang(), 1);
    const run = await sh(extensionCommand(DeliveryMode.Systemd, url, kept));
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fake.callsTo("imds").length, 2);
    assert.equal(fs.readFileSync(kept, "utf8"), `${fake.vmId}\n`);
  });

  it(`fails visibly after ${KEPT_PROOF_IMDS_TRIES} tries when IMDS never gives a vmId, and writes nothing`, async () => {
    fake.failFor("imds", faults.imdsGone(), 60000);
    const run = await sh(extensionCommand(DeliveryMode.Systemd, url, kept));
    assert.equal(run.status, 1);
    assert.equal(fake.callsTo("imds").length, KEPT_PROOF_IMDS_TRIES);
    assert.match(run.stderr, new RegExp(`IMDS gave no vmId in ${KEPT_PROOF_IMDS_TRIES} tries`));
    assert.match(run.stderr, /the worker does not start on this VM/);
    assert.equal(fs.existsSync(path.dirname(kept)), false, "nothing was written");
  });

  it("reads IMDS with python3 on an image without curl, still without a proxy", async () => {
    const bin = pathWithoutCurl(fs.mkdtempSync(path.join(work, "bin-")));
    fake.fail("imds", faults.imdsGone(), 1);
    const run = await sh(extensionCommand(DeliveryMode.Systemd, url, kept), {
      PATH: bin,
      http_proxy: "http://127.0.0.1:9",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.readFileSync(kept, "utf8"), `${fake.vmId}\n`);
    const reads = fake.callsTo("imds");
    assert.equal(reads.length, 2);
    assert.match(reads[1].headers["user-agent"] ?? "", /^Python-urllib/);
  });

  describe("customScript mode", () => {
    /** A stub systemd-run that records whether the kept file existed when it was called. */
    const stubSystemdRun = (out: string) =>
      `#!/bin/sh\n[ -s "$KEPT" ] && echo kept > "${out}" || echo missing > "${out}"\n`;

    it(`writes the kept file before ${START_EXTENSION_NAME} starts the unit, in one command`, async () => {
      const out = path.join(work, "systemd-run.saw");
      const bin = pathWithoutCurl(fs.mkdtempSync(path.join(work, "bin-")), { "systemd-run": stubSystemdRun(out) });
      const run = await sh(extensionCommand(DeliveryMode.CustomScript, url, kept), { PATH: bin, KEPT: kept });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(fs.readFileSync(out, "utf8"), "kept\n");
    });

    it("does not start the unit when the kept file cannot be written", async () => {
      const out = path.join(work, "systemd-run.saw");
      const bin = pathWithoutCurl(fs.mkdtempSync(path.join(work, "bin-")), { "systemd-run": stubSystemdRun(out) });
      fake.failFor("imds", faults.imdsGone(), 60000);
      const run = await sh(extensionCommand(DeliveryMode.CustomScript, url, kept), { PATH: bin, KEPT: kept });
      assert.equal(run.status, 1);
      assert.equal(fs.existsSync(out), false, "systemd-run was called");
    });
  });

  it(`is the only extension in systemd and cloudInit modes (${KEPT_EXTENSION_NAME}), and absent without overprovisioning`, () => {
    for (const delivery of [DeliveryMode.Systemd, DeliveryMode.CloudInit]) {
      assert.deepEqual(
        renderExtensions({ delivery, overprovision: true }).map((e) => e.name),
        [KEPT_EXTENSION_NAME],
      );
      assert.deepEqual(renderExtensions({ delivery, overprovision: false }), []);
    }
  });
});
