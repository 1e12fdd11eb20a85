/**
 * The final state "no usable Node.js" (unit exit status 89) and its recovery. The mirror refuses
 * every connection, so hpc-node-install gives up at its deadline (timeoutSeconds, short here);
 * hpc-worker then ends failed with 89, says what to do, and does not restart-loop. Once the mirror
 * is back, `systemctl restart hpc-worker` (the README's recovery) installs node again through the
 * installer it pulls in, and the worker starts after Succeeded.
 */
import * as assert from "assert";
import { DeliveryMode, LAUNCHER_NO_USABLE_NODE_EXIT } from "../../components";
import { RESTART_SEC } from "../../components/units";
import {
  assertWorkerStartedOnceAfter,
  attemptLines,
  INSTALLER_GAVE_UP,
  INSTALLER_STARTED,
  NO_USABLE_NODE,
  waitForNodeInstalled,
} from "../lib/nodeInstall";
import { HealthState } from "../../components";
import { waitForHealth } from "../lib/health";
import { Scenario, timing } from "../lib/scenario";
import { seconds } from "../lib/suite";
import { WORKER_COMMAND, WORKER_STARTED } from "../lib/worker";

/** The installer's deadline and the waiter's timeout: short, so the install gives up soon. */
const TIMEOUT_SECONDS = 60;
/** A restart delay and then some: a restart would show in this window. */
const NO_RESTART_WINDOW_MS = RESTART_SEC * 1000 + 5_000;
const name = "node-not-installable";

describe("no usable Node.js: the installer gives up at its deadline, the unit ends final (89), systemctl restart recovers", function () {
  this.bail(true);
  const s = new Scenario(
    name,
    {
      delivery: DeliveryMode.Systemd,
      workerCommand: WORKER_COMMAND,
      overprovision: false,
      timeoutSeconds: TIMEOUT_SECONDS,
    },
    { vm: "Creating", scaleSet: "Updating" },
  );

  before(() => s.start());
  after(() => s.dispose());
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(s.diagnostics());
  });

  it("boots while the mirror refuses every connection", async () => {
    s.repo.refuseUntilTime(Infinity);
    await s.boot();
  });

  it("gives up at the deadline, and hpc-worker ends failed with 89, says what to do, and never restarts", async () => {
    const gaveUp = await s.guest.serial.waitFor(
      INSTALLER_GAVE_UP,
      "the installer did not give up",
      3 * TIMEOUT_SECONDS * 1000,
      {
        failOn: WORKER_STARTED,
      },
    );
    const started = s.guest.serial.find(INSTALLER_STARTED)!;
    timing(name, "installer start to giving up", gaveUp.at - started.at);
    assert.ok(attemptLines(s).length >= 2, "it retried before giving up");
    assert.match(
      gaveUp.text,
      /giving up after \d+ s, as a next try would start past the 60 s deadline: hpc-worker\.service ends with exit status 89/,
    );
    const final = await s.guest.serial.waitFor(NO_USABLE_NODE, "hpc-worker did not end final", 30_000);
    assert.match(final.text, /hpc-node-install\.service is failed and left no node .*systemctl restart hpc-worker/);
    await new Promise((r) => setTimeout(r, NO_RESTART_WINDOW_MS));
    const unit = await s.unitProperties();
    assert.deepStrictEqual(
      [unit.ActiveState, unit.Result, unit.ExecMainStatus, unit.NRestarts],
      ["failed", "exit-code", String(LAUNCHER_NO_USABLE_NODE_EXIT), "0"],
      `hpc-worker.service: ${JSON.stringify(unit)}`,
    );
    assert.deepStrictEqual(s.reads("vm", 0), [], "the waiter never ran");
    const status = await s.rootShell("systemctl status hpc-worker.service --no-pager --full --lines=3", 30_000);
    process.stderr.write(`      [status] ${name}:\n${status.stdout.replace(/^/gm, "        | ")}\n`);
    assert.match(status.stdout, /Active: failed \(Result: exit-code\)/);
    assert.match(status.stdout, /status=89/);
    assert.match(status.stdout, /final: no usable Node\.js/);
    // No node, so no bundle: the python3 responder on the same socket says the worker stopped for good.
    await waitForHealth(s, HealthState.Unhealthy, "after the unit ended final with 89 (no usable Node.js)", {
      never: HealthState.Healthy,
    });
  });

  it("installs node and starts the worker after Succeeded once the mirror is back and hpc-worker is restarted", async () => {
    s.repo.accept();
    const restartAt = Date.now();
    const r = await s.rootShell("systemctl restart hpc-worker.service", 30_000);
    assert.strictEqual(r.exitcode, 0, r.stderr);
    const installed = await waitForNodeInstalled(s);
    assert.ok(s.guest.serial.filter(INSTALLER_STARTED, restartAt).length === 1, "the restart started the installer");
    timing(name, "systemctl restart to node installed", installed.at - restartAt);
    await s.waitForReads("vm", 1, restartAt, 60_000);
    s.assertWorkerNotStarted(0, "while the VM was Creating");
    const { afterFlipMs } = await s.flipAndWaitForWorker();
    timing(name, "Succeeded to worker started", afterFlipMs);
    assertWorkerStartedOnceAfter(s, installed);
    timing(
      name,
      "worker started to health endpoint Healthy (python3 responder hands over to the bundle)",
      await waitForHealth(s, HealthState.Healthy, "once the worker runs after the recovery"),
    );
    process.stderr.write(`      [timing] ${name}: recovered in ${seconds(Date.now() - restartAt)}\n`);
  });
});
