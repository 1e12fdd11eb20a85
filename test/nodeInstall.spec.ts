/**
 * The Node.js installer (hpc-node-install.service), run against a scripted apt-get on a fake
 * clock: one journal line per attempt, back-off, the locks and failures it survives, and the
 * deadline after which it gives up.
 */
import { strict as assert } from "assert";
import { renderCustomData, DeliveryMode, NODE_INSTALLER_PATH } from "../components";
import {
  NODE_INSTALL_GAVE_UP_EXIT,
  NODE_INSTALL_LOCK_TIMEOUT_SECONDS,
  NODE_INSTALL_RETRY_INITIAL_SECONDS,
  NODE_INSTALL_RETRY_MAX_SECONDS,
  renderNodeInstaller,
} from "../components/nodeInstall";
import { parseCloudConfig, writeFile } from "../testkit/cloudConfig";
import { AptOutcome, runInstaller } from "../testkit/vmScripts";

const OK: AptOutcome = { exit: 0, output: "Reading package lists...\n" };
const LISTS_LOCK: AptOutcome = {
  exit: 100,
  output:
    "Reading package lists...\nE: Could not get lock /var/lib/apt/lists/lock. It is held by process 312 (python3)\n" +
    "E: Unable to lock directory /var/lib/apt/lists/\n",
};
const FRONTEND_LOCK: AptOutcome = {
  exit: 100,
  seconds: NODE_INSTALL_LOCK_TIMEOUT_SECONDS,
  output:
    "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 312 (python3)\n" +
    "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n",
};
/** As apt 2.6 (Debian 12) says it, measured in the e2e: an unreachable source is only a warning, exit 0. */
const MIRROR_DOWN: AptOutcome = {
  exit: 0,
  output:
    "Err:1 http://169.254.0.80 ./ InRelease\n  Connection failed [IP: 169.254.0.80 80]\n" +
    "W: Failed to fetch http://169.254.0.80/./InRelease  Connection failed [IP: 169.254.0.80 80]\n" +
    "W: Some index files failed to download. They have been ignored, or old ones used instead.\n",
};
/** The same where apt makes it an error. */
const MIRROR_DOWN_ERROR: AptOutcome = { exit: 100, output: MIRROR_DOWN.output!.replace(/^W: Some/m, "E: Some") };
const NO_PACKAGE: AptOutcome = { exit: 100, output: "Reading package lists...\nE: Unable to locate package nodejs\n" };

const installer = (deadlineSeconds?: number) => renderNodeInstaller({ deadlineSeconds });
const attemptLines = (lines: string[]) => lines.filter((l) => /^attempt \d+: /.test(l));

describe("the Node.js installer", function () {
  this.timeout(30000);

  it("is shipped with the waiter's timeout as its deadline, and only when installNodejs is on", () => {
    const doc = parseCloudConfig(
      renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand: "w", timeoutSeconds: 900, agentBundle: "//" }),
    );
    assert.match(writeFile(doc, NODE_INSTALLER_PATH), /^DEADLINE_SECONDS=900$/m);
    const without = parseCloudConfig(
      renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand: "w", installNodejs: false, agentBundle: "//" }),
    );
    assert.equal(
      (without.write_files as Array<{ path: string }>).filter((f) => f.path === NODE_INSTALLER_PATH).length,
      0,
    );
    assert.equal(without.packages, undefined, "cloud-init's packages module is never used");
  });

  it("exits 0 at once, without apt-get, when node is already installed", () => {
    const run = runInstaller(installer(), [], { nodeExists: true });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.calls, []);
    assert.deepEqual(run.lines, ["node v18.19.0 is installed; nothing to do"]);
  });

  it("installs with one update and one install, waiting for the dpkg lock and without recommends", () => {
    const run = runInstaller(installer(), [OK, OK]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.calls, [
      `apt-get -q -o DPkg::Lock::Timeout=${NODE_INSTALL_LOCK_TIMEOUT_SECONDS} update`,
      `apt-get -q -y --no-install-recommends -o DPkg::Lock::Timeout=${NODE_INSTALL_LOCK_TIMEOUT_SECONDS} install nodejs`,
    ]);
    assert.deepEqual(run.lines, [
      "node is missing: installing nodejs with apt-get, retrying for up to 7200 s",
      "attempt 1: installed nodejs: node v18.19.0, 0 s after the first attempt",
    ]);
    assert.deepEqual(run.sleeps, []);
  });

  it("retries while the apt lists lock is held, one line per attempt saying so and when the next try is", () => {
    const run = runInstaller(installer(), [LISTS_LOCK, LISTS_LOCK, OK, OK]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(attemptLines(run.lines), [
      "attempt 1: apt lock held: apt-get update: E: Could not get lock /var/lib/apt/lists/lock. It is held by process 312 (python3); next try in 5 s",
      "attempt 2: apt lock held: apt-get update: E: Could not get lock /var/lib/apt/lists/lock. It is held by process 312 (python3); next try in 10 s",
      "attempt 3: installed nodejs: node v18.19.0, 15 s after the first attempt",
    ]);
    assert.equal(run.calls.filter((c) => c.endsWith(" install nodejs")).length, 1, "no install while the lock is held");
  });

  it("reports a dpkg lock still held after apt's own wait, and then installs", () => {
    const run = runInstaller(installer(), [OK, FRONTEND_LOCK, OK, OK]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(attemptLines(run.lines), [
      "attempt 1: apt lock held: apt-get install: E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 312 (python3); next try in 5 s",
      "attempt 2: installed nodejs: node v18.19.0, 65 s after the first attempt",
    ]);
  });

  it("says the mirror failed and the install failed when both do, then installs once the mirror is back", () => {
    const run = runInstaller(installer(), [MIRROR_DOWN, NO_PACKAGE, OK, OK]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(attemptLines(run.lines), [
      "attempt 1: apt-get update exit 0: W: Failed to fetch http://169.254.0.80/./InRelease Connection failed [IP: 169.254.0.80 80]; " +
        "apt-get install failed (exit 100): E: Unable to locate package nodejs; next try in 5 s",
      "attempt 2: installed nodejs: node v18.19.0, 5 s after the first attempt",
    ]);
  });

  it("still installs when the update partly failed (even as an error) but the package is there", () => {
    const run = runInstaller(installer(), [MIRROR_DOWN_ERROR, OK]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      attemptLines(run.lines)[0],
      /^attempt 1: apt-get update exit 100: W: Failed to fetch .*; installed nodejs/,
    );
  });

  it("repairs a dpkg run interrupted by a reboot before the next attempt", () => {
    const interrupted = { exit: 100, output: "E: dpkg was interrupted, you must manually run 'dpkg --configure -a'\n" };
    const run = runInstaller(installer(), [OK, interrupted, OK, OK]);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.calls.includes("dpkg --configure -a"), run.calls.join("\n"));
    assert.match(
      attemptLines(run.lines)[0],
      /^attempt 1: dpkg was interrupted; dpkg --configure -a exit 0; next try in 5 s$/,
    );
  });

  it("doubles the delay between attempts up to its cap", () => {
    const failures = Array.from({ length: 7 }, () => [MIRROR_DOWN, NO_PACKAGE]).flat();
    const run = runInstaller(installer(), [...failures, OK, OK]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(NODE_INSTALL_RETRY_INITIAL_SECONDS, 5);
    assert.equal(NODE_INSTALL_RETRY_MAX_SECONDS, 30);
    assert.deepEqual(run.sleeps, [5, 10, 20, 30, 30, 30, 30]);
    assert.equal(attemptLines(run.lines).length, 8, "one line per attempt");
  });

  it("gives up when the next try would start after its deadline, and exits non-zero with what to do", () => {
    const failures = Array.from({ length: 20 }, () => [MIRROR_DOWN, NO_PACKAGE]).flat();
    const run = runInstaller(installer(100), failures);
    assert.equal(run.status, NODE_INSTALL_GAVE_UP_EXIT, run.stderr);
    // Attempts at 0, 5, 15, 35, 65 and 95 s; the next would be at 125 s, past the 100 s deadline.
    assert.deepEqual(run.sleeps, [5, 10, 20, 30, 30]);
    const attempts = attemptLines(run.lines);
    assert.equal(attempts.length, 6, "one line per attempt");
    assert.equal(run.calls.length, 12, "no apt-get after the deadline");
    assert.match(
      attempts[5],
      /^attempt 6: .*; giving up after 95 s, as a next try would start past the 100 s deadline: hpc-worker\.service ends with exit status 89\. .*systemctl restart hpc-worker$/,
    );
  });
});
