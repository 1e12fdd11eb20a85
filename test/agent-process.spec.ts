/**
 * The BUILT bundle (node agent/dist/waiter.js) as a real child process against FakeAzure over
 * TCP: only what a process can show. Its argv and exit codes, the transport (timeouts, refused
 * and reset connections, no proxy ever, no X-Forwarded-For) and the end-to-end timing of the
 * kept-file exit on a real file system. The logic (fault classes, Retry-After, pacing) is
 * tested on the pure core with a fake clock (agent-core, -arm-faults, -retry, -kept-file).
 * Scenarios run in parallel, each with its own fake, started in a `before` hook.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EXIT_CODES } from "../agent/src/core/exitCodes";
import { KEPT_FILE_POLL_MS } from "../agent/src/core/keptFile";
import { ensureBundle, runWaiterProcess } from "../testkit/fake-azure/agentProcess";
import type { SpawnOptions, WaiterRun } from "../testkit/fake-azure/agentProcess";
import { DEFAULT_VM_ID, FakeAzure, faults } from "../testkit/fake-azure/index";
import type { FakeAzureOptions } from "../testkit/fake-azure/index";
import { freePort } from "../testkit/ports";

/** Slack for process start-up and a loaded 2-core machine. */
/** Room for process start-up and a loaded machine on top of the figure each assertion checks. */
const SLACK_MS = 3000;
const OTHER_VM_ID = "11111111-2222-4333-8444-555555555555";

interface Outcome {
  fake: FakeAzure;
  run: WaiterRun;
  /** Epoch ms of the scenario's own marks (a file written, ...). */
  marks: Record<string, number>;
}

const fakes: FakeAzure[] = [];
const dirs: string[] = [];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once the fake has seen `count` ARM reads of the VM. */
async function vmReads(fake: FakeAzure, count: number): Promise<void> {
  const started = Date.now();
  while (fake.callsTo("vm").length < count) {
    if (Date.now() - started > 30000) throw new Error(`fewer than ${count} ARM reads within 30 s`);
    await sleep(10);
  }
}

function keptPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kept-"));
  dirs.push(dir);
  return path.join(dir, "kept");
}

/** A fake (on `port`, if given), then the waiter against it with `args`; `meanwhile` plays the timeline. */
async function scenario(
  fakeOpts: FakeAzureOptions,
  args: string[],
  meanwhile: (fake: FakeAzure, marks: Record<string, number>) => Promise<unknown> = async () => undefined,
  spawn: SpawnOptions & {
    timeout?: string;
    port?: number;
    lateStartMs?: number;
    /** Faults and timelines set before the waiter starts. */
    prepare?: (fake: FakeAzure) => unknown;
  } = {},
): Promise<Outcome> {
  const fake = new FakeAzure(fakeOpts);
  fakes.push(fake);
  if (spawn.prepare) spawn.prepare(fake);
  const port = spawn.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  if (!spawn.lateStartMs) await fake.listen(port);
  // A late fake starts counting once the waiter has logged its first line, which it does just
  // before its first IMDS request: a slow process start must not hide the refused connection.
  let firstLine: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (firstLine = resolve));
  const running = runWaiterProcess(["--imds-url", url, "--arm-url", url, "--timeout", spawn.timeout ?? "30", ...args], {
    ...spawn,
    onStderr: () => firstLine(),
  });
  if (spawn.lateStartMs) {
    await started;
    await sleep(spawn.lateStartMs);
    await fake.listen(port);
  }
  const marks: Record<string, number> = {};
  await meanwhile(fake, marks);
  return { fake, run: await running, marks };
}

describe("agent process (built bundle against FakeAzure)", function () {
  this.timeout(60000);

  before(() => ensureBundle());

  after(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers usage errors with code 2 and a clear message (--overprovisioned: replaced by --kept-file), --help with 0", async () => {
    const [bad, value, removed, help] = await Promise.all([
      runWaiterProcess(["--bogus"]),
      runWaiterProcess(["--timeout", "soon"]),
      runWaiterProcess(["--overprovisioned"]),
      runWaiterProcess(["--help"]),
    ]);
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.match(bad.stderr, /unknown flag --bogus/);
    assert.match(bad.stderr, /usage: waiter\.js/);
    assert.equal(value.code, EXIT_CODES.usage);
    assert.match(value.stderr, /--timeout must be a number of seconds greater than 0 \(got "soon"\)/);
    assert.equal(removed.code, EXIT_CODES.usage);
    assert.match(removed.stderr, /--overprovisioned was removed and replaced by --kept-file PATH: it proved survival/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--kept-file PATH/);
    assert.match(help.stdout, /6 refused/);
    assert.doesNotMatch(help.stdout, /--overprovisioned/);
  });

  describe("exit codes and the transport", () => {
    const runs: Record<string, Promise<Outcome>> = {};

    before(() => {
      runs.happy = scenario({}, [], async (fake) => {
        await vmReads(fake, 1);
        fake.schedule(1500, { vm: "Succeeded" });
      });
      runs.proxy = scenario({ vmState: "Succeeded" }, [], undefined, {
        env: {
          HTTP_PROXY: "http://127.0.0.1:9",
          HTTPS_PROXY: "http://127.0.0.1:9",
          http_proxy: "http://127.0.0.1:9",
          https_proxy: "http://127.0.0.1:9",
          ALL_PROXY: "http://127.0.0.1:9",
          NO_PROXY: "",
          NODE_USE_ENV_PROXY: "1",
        },
      });
      runs.refusedThenReset = freePort().then((port) =>
        scenario({}, [], undefined, {
          port,
          lateStartMs: 1500,
          prepare: (fake) => fake.fail("vm", faults.reset()).schedule(1000, { vm: "Succeeded" }),
        }),
      );
      runs.gone = scenario({}, [], async (fake) => {
        await vmReads(fake, 1);
        fake.schedule(800, { vm: "Deleting" });
      });
      runs.failed = scenario({}, [], undefined, { prepare: (fake) => fake.schedule(500, { vm: "Failed" }) });
      const invalidApiVersion = faults.status(
        400,
        JSON.stringify({
          error: { code: "InvalidApiVersionParameter", message: "The api-version '2024-11-01' is invalid." },
        }),
      );
      runs.refused = scenario({}, [], undefined, { prepare: (fake) => fake.fail("vm", invalidApiVersion, 100) });
      runs.hungAtDeadline = scenario({}, [], undefined, {
        timeout: "2.5",
        prepare: (fake) => fake.failFor("vm", faults.hang(), 60000),
      });
    });

    it("exits 0 within a second of Succeeded, with the documented calls and headers, never X-Forwarded-For", async () => {
      const { fake, run } = await runs.happy;
      assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
      const flip = fake.changedAt("vm", "Succeeded")!;
      assert.ok(run.exitedAt - flip <= 1200 + SLACK_MS, `exited ${run.exitedAt - flip} ms after Succeeded`);
      assert.deepEqual(
        fake.calls.slice(0, 4).map((c) => c.path.replace(/\/subscriptions\/.*/, "ARM")),
        [
          "/metadata/instance/compute/resourceId",
          "/metadata/instance/compute/azEnvironment",
          "/metadata/identity/oauth2/token",
          "ARM",
        ],
      );
      for (const c of fake.calls) {
        assert.equal(c.headers["x-forwarded-for"], undefined);
        if (c.route === "imds" || c.route === "token") assert.equal(c.headers["metadata"], "true");
        else assert.match(c.headers["authorization"], /^Bearer fake-access-token-/);
      }
      for (const t of fake.tokens) assert.equal(run.stderr.indexOf(t), -1, "a token reached the log");
      assert.match(run.stderr, /provisioningState Succeeded .*exit 0/);
    });

    it("ignores HTTP(S)_PROXY and NODE_USE_ENV_PROXY pointing at a dead proxy", async () => {
      const { fake, run } = await runs.proxy;
      assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
      assert.ok(fake.calls.length >= 4);
    });

    it("rides out a refused connection (IMDS not up for 1.5 s) and a reset ARM connection", async () => {
      const { fake, run } = await runs.refusedThenReset;
      assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
      assert.match(run.stderr, /IMDS unreachable \(ECONNREFUSED\) for compute\/resourceId .*retrying in \d+\.\d s/);
      assert.match(run.stderr, /ARM unreachable \(ECONNRESET\) for the VM/);
      assert.equal(fake.callsTo("vm")[0].fault, "reset");
    });

    it("exits 3 (gone) within a second of Deleting", async () => {
      const { fake, run } = await runs.gone;
      assert.equal(run.code, EXIT_CODES.gone, run.stderr);
      assert.ok(run.exitedAt - fake.changedAt("vm", "Deleting")! <= 1200 + SLACK_MS);
    });

    it("exits 4 (failed) on Failed", async () => {
      const { run } = await runs.failed;
      assert.equal(run.code, EXIT_CODES.failed, run.stderr);
    });

    it("exits 6 (refused) at an ARM 400 InvalidApiVersionParameter, with a clear last line", async () => {
      const { fake, run } = await runs.refused;
      assert.equal(run.code, EXIT_CODES.refused, run.stderr);
      assert.equal(fake.callsTo("vm").length, 1);
      const last = run.stderr.trim().split("\n").pop()!;
      assert.match(
        last,
        /^waiter: ARM 400 InvalidApiVersionParameter "The api-version '2024-11-01' is invalid\." for the VM at \d+\.\d s: refused, because .*; exit 6 \(refused\)$/,
      );
    });

    it("exits 5 (timeout) at the timeout, never early, with a request hanging (the transport aborts it)", async () => {
      const { run } = await runs.hungAtDeadline;
      assert.equal(run.code, EXIT_CODES.timeout, run.stderr);
      const took = run.exitedAt - run.startedAt;
      assert.ok(took >= 2500 && took <= 2500 + SLACK_MS, `${took} ms with a hung request`);
    });

    it("exits 2 (usage) when the cloud is unknown and no --arm-url is given", async () => {
      // scenario() passes --arm-url; this run must not.
      const fake = new FakeAzure({ azEnvironment: "AzureStackCloud" });
      fakes.push(fake);
      const url = await fake.listen();
      const run = await runWaiterProcess(["--imds-url", url, "--timeout", "10"]);
      assert.equal(run.code, EXIT_CODES.usage, run.stderr);
      assert.match(run.stderr, /azEnvironment "AzureStackCloud".*pass --arm-url/);
    });
  });

  describe("--kept-file end to end, on a real file system", () => {
    const runs: Record<string, Promise<Outcome>> = {};

    before(() => {
      const fileLast = keptPath();
      runs.fileAfterSucceeded = scenario({ vmState: "Succeeded" }, ["--kept-file", fileLast], async (fake, marks) => {
        await vmReads(fake, 1);
        await sleep(1500);
        fs.writeFileSync(fileLast, `${fake.vmId}\n`);
        marks.written = Date.now();
      });
      const fileFirst = keptPath();
      runs.fileBeforeSucceeded = scenario({}, ["--kept-file", fileFirst], async (fake, marks) => {
        await vmReads(fake, 1);
        fs.writeFileSync(fileFirst, fake.vmId);
        marks.written = Date.now();
        fake.schedule(1500, { vm: "Succeeded" });
      });
      const foreign = keptPath();
      fs.writeFileSync(foreign, OTHER_VM_ID);
      runs.foreign = scenario({ vmState: "Succeeded" }, ["--kept-file", foreign], undefined, { timeout: "4" });
      runs.extra = scenario({}, ["--kept-file", keptPath()], async (fake) => {
        await vmReads(fake, 1);
        fake.timeline([
          { at: 1000, vm: "Deleting" },
          { at: 4000, vm: "NotFound" },
        ]);
      });
      const rebooted = keptPath();
      fs.writeFileSync(rebooted, `${DEFAULT_VM_ID}\n`);
      runs.reboot = scenario({ vmState: "Succeeded", scaleSetState: "Updating" }, ["--kept-file", rebooted]);
    });

    it("exits 0 within a second of the file appearing after Succeeded", async () => {
      const { run, marks } = await runs.fileAfterSucceeded;
      assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
      const late = run.exitedAt - marks.written;
      assert.ok(late >= 0 && late <= KEPT_FILE_POLL_MS + SLACK_MS, `exited ${late} ms after the file`);
    });

    it("reads ARM at once when the file comes first, then exits within a second of Succeeded", async () => {
      const { fake, run, marks } = await runs.fileBeforeSucceeded;
      assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
      const prompt = fake.callsTo("vm").find((c) => c.at >= marks.written)!;
      assert.ok(prompt.at - marks.written <= KEPT_FILE_POLL_MS + SLACK_MS, "no prompt read after the file");
      const late = run.exitedAt - fake.changedAt("vm", "Succeeded")!;
      assert.ok(late <= 1200 + SLACK_MS, `exited ${late} ms after Succeeded`);
    });

    it("never exits 0 while Succeeded on a file holding another vmId, and says why once", async () => {
      const { fake, run } = await runs.foreign;
      assert.equal(run.code, EXIT_CODES.timeout, run.stderr);
      const said = run.stderr.split("\n").filter((l) => l.indexOf(OTHER_VM_ID) >= 0);
      assert.equal(said.length, 1, run.stderr);
      assert.match(said[0], new RegExp(`not this VM's ${fake.vmId}: ignored`));
    });

    it("an extra (no file) exits 3 within 10 s of Deleting", async () => {
      const { fake, run } = await runs.extra;
      assert.equal(run.code, EXIT_CODES.gone, run.stderr);
      const late = run.exitedAt - fake.changedAt("vm", "Deleting")!;
      assert.ok(late <= 10000, `exited ${late} ms after Deleting`);
      assert.equal(fake.callsTo("scaleSet").length, 0);
    });

    it("a kept VM rebooted while its scale set is Updating exits 0 within 2 s of reading Succeeded, with 0 scale-set reads", async () => {
      const { fake, run } = await runs.reboot;
      assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
      const read = fake.callsTo("vm");
      assert.equal(read.length, 1);
      assert.ok(run.exitedAt - read[0].at <= 2000, `exited ${run.exitedAt - read[0].at} ms after reading Succeeded`);
      assert.equal(fake.callsTo("scaleSet").length, 0);
      assert.equal(fake.state.scaleSet, "Updating");
    });
  });
});
