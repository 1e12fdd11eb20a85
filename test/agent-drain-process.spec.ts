/**
 * `waiter.js drain-watcher` as a process: the built bundle against FakeAzure's Scheduled Events over
 * HTTP, draining a real worker process through a stand-in systemctl (testkit/fake-systemctl.sh).
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FakeAzure } from "../testkit/fake-azure";
import { ensureBundle, REPO_ROOT, runWaiterProcess, WaiterRun } from "../testkit/fake-azure/agentProcess";

const FAKE_SYSTEMCTL = path.join(REPO_ROOT, "testkit", "fake-systemctl.sh");

/**
 * A worker whose SIGTERM handler takes 1 s to hand its task back, then exits 0 (or, `ignoresSigterm`,
 * one that says it got SIGTERM and goes on); it writes what happened to `log`.
 */
function startWorker(log: string, ignoresSigterm = false): ChildProcess {
  const code = `
    const fs = require("fs");
    const say = (s) => fs.appendFileSync(${JSON.stringify(log)}, s + " " + Date.now() + "\\n");
    say("started");
    setInterval(() => {}, 1000);
    process.on("SIGTERM", () => { say("SIGTERM"); ${ignoresSigterm ? "" : 'setTimeout(() => { say("handed back"); process.exit(0); }, 1000);'} });`;
  return spawn(process.execPath, ["-e", code], { stdio: "ignore" });
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("drain-watcher process (built bundle against FakeAzure)", function () {
  this.timeout(60_000);
  before(() => ensureBundle());

  it("answers a bad flag with code 2 and the fix, --help with 0 and its usage", async () => {
    const bad = await runWaiterProcess(["drain-watcher", "--drain-seconds", "0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /drain-watcher: --drain-seconds must be a whole number from 1 to 900 \(got "0"\)/);
    const stray = await runWaiterProcess(["drain-watcher", "now"]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /unexpected argument "now" \(only flags are taken\)/);
    const help = await runWaiterProcess(["drain-watcher", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: waiter\.js drain-watcher /);
  });

  describe("a Preempt for this VM and a Terminate for another, after a slow first call", () => {
    const fake = new FakeAzure();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drain-"));
    const workerLog = path.join(dir, "worker.log");
    let worker: ChildProcess;
    let run: WaiterRun;
    let preempt = "";
    let terminate = "";
    let firstAnswerAt = 0;

    before(async () => {
      const url = await fake.listen(0, "127.0.0.1");
      // Longer than IMDS's usual 5 s timeout: only the watcher's long first-call timeout gets an answer.
      fake.scheduledEvents.enableDelayMs = 6000;
      worker = startWorker(workerLog);
      fs.writeFileSync(path.join(dir, "pid"), String(worker.pid));
      await waitFor("the worker", () => fs.existsSync(workerLog));
      let scheduled = false;
      run = await runWaiterProcess(
        ["drain-watcher", "--imds-url", url, "--drain-seconds", "5", "--systemctl", FAKE_SYSTEMCTL],
        {
          env: { FAKE_SYSTEMCTL_DIR: dir },
          killAfterMs: 40_000,
          onStderr: (chunk) => {
            if (scheduled || !/Scheduled Events answered/.test(chunk)) return;
            scheduled = true;
            firstAnswerAt = Date.now();
            terminate = fake.scheduledEvents.schedule("Terminate", {
              resources: ["workers-vmss_7"],
              noticeMs: 300_000,
            });
            preempt = fake.scheduledEvents.schedule("Preempt", { noticeMs: 12_000 });
          },
          until: (stderr) => /acknowledged/.test(stderr),
        },
      );
    });

    after(async () => {
      worker.kill("SIGKILL");
      await fake.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("waits out the slow first call with a single GET", () => {
      const gets = fake.callsTo("scheduledEvents").filter((c) => c.method === "GET");
      assert.ok(gets.length >= 2, run.stderr);
      assert.ok(gets[1].at - gets[0].at >= 6000, "the second GET came after the first answer");
      assert.match(run.stderr, /drain-watcher: Scheduled Events answered after 6\.\d s/);
      assert.doesNotMatch(run.stderr, /ETIMEDOUT/, "the first GET was never given up");
    });

    it("sends the worker SIGTERM, lets its handler finish, then acknowledges before NotBefore", () => {
      const lines = fs.readFileSync(workerLog, "utf8").trim().split("\n");
      assert.deepEqual(
        lines.map((l) => l.replace(/ \d+$/, "")),
        ["started", "SIGTERM", "handed back"],
      );
      const handedBackAt = Number(lines[2].split(" ").pop());
      const ackAt = fake.scheduledEvents.ackedAt(preempt)!;
      assert.ok(ackAt >= handedBackAt, "acknowledged after the worker was out");
      assert.ok(ackAt < fake.scheduledEvents.notBeforeOf(preempt)!, "acknowledged before NotBefore");
      assert.ok(Number(lines[1].split(" ").pop()) - firstAnswerAt <= 2500, "SIGTERM within a poll of the event");
      const calls = fs.readFileSync(path.join(dir, "calls"), "utf8");
      assert.match(calls, /stop --no-block hpc-worker\.service/);
      assert.doesNotMatch(calls, /kill --signal=SIGKILL/);
    });

    it("leaves the other VM's Terminate alone and acknowledges only this VM's event", () => {
      assert.deepEqual(
        fake.scheduledEvents.acks.map((a) => a.eventIds),
        [[preempt]],
      );
      assert.match(
        run.stderr,
        new RegExp(`event ${terminate} Terminate Scheduled .*not this VM \\(workers-vmss_0\\): ignored`),
      );
    });

    it("sends the POST as IMDS wants it: Metadata header, no X-Forwarded-For, the documented body", () => {
      const post = fake.callsTo("scheduledEvents").find((c) => c.method === "POST")!;
      assert.equal(post.headers["metadata"], "true");
      assert.equal(post.headers["x-forwarded-for"], undefined);
      assert.equal(post.query["api-version"], "2020-07-01");
    });
  });

  describe("a worker that ignores SIGTERM, a Preempt with 9 s notice, then the event is cancelled", () => {
    const fake = new FakeAzure();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drain-kill-"));
    const workerLog = path.join(dir, "worker.log");
    let worker: ChildProcess;
    let run: WaiterRun;
    let preempt = "";
    let scheduledAt = 0;
    let drainAtStop: string | undefined;

    before(async () => {
      const url = await fake.listen(0, "127.0.0.1");
      worker = startWorker(workerLog, true);
      fs.writeFileSync(path.join(dir, "pid"), String(worker.pid));
      await waitFor("the worker", () => fs.existsSync(workerLog));
      let scheduled = false;
      let removed = false;
      run = await runWaiterProcess(
        [
          "drain-watcher",
          "--imds-url",
          url,
          "--drain-seconds",
          "25",
          "--systemctl",
          FAKE_SYSTEMCTL,
          "--state-dir",
          dir,
        ],
        {
          env: { FAKE_SYSTEMCTL_DIR: dir },
          killAfterMs: 40_000,
          onStderr: (chunk) => {
            // The health record must be in place when the stop goes out (the stand-in has the same view).
            if (drainAtStop === undefined && /SIGTERM to the worker/.test(chunk))
              drainAtStop = fs.readFileSync(path.join(dir, "drain"), "utf8");
            if (!scheduled && /Scheduled Events answered/.test(chunk)) {
              scheduled = true;
              scheduledAt = Date.now();
              preempt = fake.scheduledEvents.schedule("Preempt", { noticeMs: 9_000 });
            }
            if (!removed && /acknowledged/.test(chunk)) {
              removed = true;
              fake.scheduledEvents.remove(preempt);
            }
          },
          // The watcher logs before it runs `systemctl start`: a SIGTERM right after the line can beat the call.
          until: (stderr) =>
            /starting the worker again/.test(stderr) &&
            fs.readFileSync(path.join(dir, "calls"), "utf8").includes(" start --no-block"),
        },
      );
    });

    after(async () => {
      worker.kill("SIGKILL");
      await fake.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("writes the health state's draining record (temp file, rename) before the stop, and removes it before the start", () => {
      assert.equal(drainAtStop, `draining since=${drainAtStop!.split(/[ =]/)[2]} event=${preempt} type=Preempt\n`);
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.includes("drain")),
        [],
      );
    });

    it("sends SIGKILL the safety margin before NotBefore, not after drainSeconds, then acknowledges in time", () => {
      const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
      const verbs = calls.map((c) => c.replace(/^\S+ /, "")).filter((c) => !c.startsWith("is-active"));
      assert.deepEqual(verbs, [
        "stop --no-block hpc-worker.service",
        "kill --signal=SIGKILL hpc-worker.service",
        "start --no-block hpc-worker.service",
      ]);
      const killedAt = Number(calls.find((c) => c.includes("kill --signal"))!.split(" ")[0]) * 1000;
      const notBefore = fake.scheduledEvents.notBeforeOf(preempt)!;
      // NotBefore is served in whole seconds; the margin is 3 s; the watcher checks every 0.5 s.
      assert.ok(
        notBefore - killedAt >= 2000 && notBefore - killedAt <= 4500,
        `killed ${notBefore - killedAt} ms ahead`,
      );
      assert.ok(killedAt - scheduledAt < 9_000, "not after drainSeconds (25 s)");
      const ackAt = fake.scheduledEvents.ackedAt(preempt)!;
      assert.ok(ackAt >= killedAt && ackAt < notBefore, "acknowledged after the SIGKILL, before NotBefore");
      assert.match(run.stderr, new RegExp(`event ${preempt}: the worker got SIGKILL \\d+\\.\\d s after SIGTERM`));
      assert.deepEqual(
        fs
          .readFileSync(workerLog, "utf8")
          .trim()
          .split("\n")
          .map((l) => l.replace(/ \d+$/, "")),
        ["started", "SIGTERM"],
      );
    });

    it("starts the worker again once the event leaves the document, with one line that says so", () => {
      assert.match(run.stderr, new RegExp(`event ${preempt} is gone`));
      assert.equal(run.stderr.match(/starting the worker again/g)!.length, 1);
    });
  });
});
