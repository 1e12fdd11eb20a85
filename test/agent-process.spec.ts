/**
 * The BUILT bundle (node agent/dist/waiter.js) as a real child process against FakeAzure over
 * TCP, one test per fault class: exit code, timing against the scripted timeline, Retry-After
 * compliance, the calls it made.
 */
import { strict as assert } from "assert";
import * as net from "net";
import { EXIT_CODES } from "../agent/src/core/exitCodes";
import { ARM_REQUEST_TIMEOUT_MS } from "../agent/src/core/constants";
import { ensureBundle, runWaiterProcess } from "../testkit/fake-azure/agentProcess";
import type { SpawnOptions, WaiterRun } from "../testkit/fake-azure/agentProcess";
import { FakeAzure, faults, FLEXIBLE_RESOURCE_ID } from "../testkit/fake-azure/index";
import type { FakeAzureOptions } from "../testkit/fake-azure/index";

/** Slack for process start-up and a loaded 2-core CI machine. */
const SLACK_MS = 1500;

let fake: FakeAzure | undefined;

async function startFake(opts: FakeAzureOptions = {}, port = 0): Promise<{ fake: FakeAzure; url: string }> {
  fake = new FakeAzure(opts);
  const url = await fake.listen(port);
  return { fake, url };
}

function waiter(url: string, extra: string[] = [], opts: SpawnOptions = {}): Promise<WaiterRun> {
  return runWaiterProcess(["--imds-url", url, "--arm-url", url, "--timeout", "30", ...extra], opts);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const vmCalls = (f: FakeAzure) => f.callsTo("vm");

describe("agent process (built bundle against FakeAzure)", function () {
  this.timeout(45000);

  before(() => ensureBundle());

  afterEach(async () => {
    if (fake) await fake.close();
    fake = undefined;
  });

  it("exits 0 within a second of Succeeded, with the documented calls and headers", async () => {
    const { fake, url } = await startFake();
    fake.schedule(1500, { vm: "Succeeded" });
    const run = await waiter(url);
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
    assert.equal(vmCalls(fake)[vmCalls(fake).length - 1].status, 200);
    for (const t of fake.tokens) assert.equal(run.stderr.indexOf(t), -1, "a token reached the log");
    assert.match(run.stderr, /provisioningState Succeeded .*exit 0/);
  });

  it("ignores HTTP(S)_PROXY and NODE_USE_ENV_PROXY pointing at a dead proxy", async () => {
    const { fake, url } = await startFake({ vmState: "Succeeded" });
    const dead = `http://127.0.0.1:${await freePort()}`;
    const run = await waiter(url, [], {
      env: {
        HTTP_PROXY: dead,
        HTTPS_PROXY: dead,
        http_proxy: dead,
        https_proxy: dead,
        ALL_PROXY: dead,
        NO_PROXY: "",
        NODE_USE_ENV_PROXY: "1",
      },
    });
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    assert.ok(fake.calls.length >= 4);
  });

  it("answers a usage error with code 2 and a clear message; --help with 0", async () => {
    const bad = await runWaiterProcess(["--bogus"]);
    assert.equal(bad.code, EXIT_CODES.usage);
    assert.match(bad.stderr, /unknown flag --bogus/);
    assert.match(bad.stderr, /usage: waiter\.js/);
    const value = await runWaiterProcess(["--timeout", "soon"]);
    assert.equal(value.code, EXIT_CODES.usage);
    assert.match(value.stderr, /--timeout must be a number of seconds greater than 0 \(got "soon"\)/);
    const help = await runWaiterProcess(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--overprovisioned/);
  });

  it("waits for IMDS to come up (connection refused for 2 s)", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const running = waiter(url);
    await new Promise((r) => setTimeout(r, 2000));
    const { fake } = await startFake({ vmState: "Succeeded" }, port);
    const run = await running;
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    assert.match(run.stderr, /IMDS unreachable for compute\/resourceId \(ECONNREFUSED\).*retrying in \d+\.\d s/);
    assert.ok(run.exitedAt - fake.calls[0].at <= 500 + SLACK_MS);
  });

  it("rides out IMDS 410 (for 2.5 s), 404, 429 and 500", async () => {
    const { fake, url } = await startFake({ vmState: "Succeeded" });
    fake
      .failFor("imds", faults.imdsGone(), 2500)
      .fail("imds", faults.imdsNotFound())
      .fail("imds", faults.imdsThrottled())
      .fail("imds", faults.serverError());
    const run = await waiter(url);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    const imds = fake.callsTo("imds");
    const firstOk = imds.find((c) => c.status === 200)!;
    assert.ok(firstOk.at - imds[0].at >= 2500);
    assert.deepEqual([...new Set(imds.map((c) => c.status))].sort(), [200, 404, 410, 429, 500]);
    assert.match(run.stderr, /IMDS 410 .*up to 70 s/);
  });

  it("waits for the managed identity (400 Identity not found, 404)", async () => {
    const { fake, url } = await startFake({ vmState: "Succeeded" });
    fake.setIdentityAttached(false);
    fake.schedule(2000, { identity: true });
    const run = await waiter(url);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    assert.ok(fake.callsTo("token").filter((c) => c.status === 400).length >= 2);
    assert.match(run.stderr, /IMDS 400 invalid_request: Identity not found .*no managed identity attached yet/);
  });

  it("keeps waiting through RBAC propagation (403 AuthorizationFailed) and logs why", async () => {
    const { fake, url } = await startFake({ vmState: "Succeeded" });
    fake.setRbacReady(false);
    fake.schedule(3000, { rbac: true });
    const run = await waiter(url);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    assert.ok(vmCalls(fake).filter((c) => c.status === 403).length >= 2);
    assert.match(
      run.stderr,
      /ARM 403 AuthorizationFailed for the VM \(RBAC not propagated yet.*; retrying in \d+\.\d s/,
    );
  });

  it("never reads ARM before a 429's Retry-After (seconds, retry-after-ms, HTTP date) has elapsed", async function () {
    // How long after the Retry-After the policy comes back is its to tune (it spreads a throttled
    // fleet over up to a minute), so each header form gets its own fake and waiter, in parallel.
    this.timeout(150000);
    const dateAt = Math.ceil((Date.now() + 4000) / 1000) * 1000;
    const forms = [
      { fault: faults.throttled(2), floor: (at: number) => at + 2000 },
      { fault: faults.throttled(1500, "retry-after-ms"), floor: (at: number) => at + 1500 },
      { fault: faults.throttled(1800, "x-ms-retry-after-ms"), floor: (at: number) => at + 1800 },
      { fault: faults.throttled(new Date(dateAt).toUTCString()), floor: () => dateAt },
    ];
    const fakes = forms.map(() => new FakeAzure({ vmState: "Succeeded" }));
    try {
      const runs = await Promise.all(
        fakes.map(async (f, k) => {
          f.fail("vm", forms[k].fault);
          const url = await f.listen();
          return runWaiterProcess(["--imds-url", url, "--arm-url", url, "--timeout", "140"], { killAfterMs: 145000 });
        }),
      );
      runs.forEach((run, k) => {
        assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
        const vm = vmCalls(fakes[k]);
        assert.deepEqual(
          vm.map((c) => c.status),
          [429, 200],
        );
        const floor = forms[k].floor(vm[0].at);
        assert.ok(vm[1].at >= floor, `form ${k}: read ${floor - vm[1].at} ms before the Retry-After elapsed`);
      });
      assert.match(
        runs[0].stderr,
        /ARM 429 TooManyRequests for the VM \(throttled; Retry-After 2\.0 s\); retrying in \d+\.\d s/,
      );
    } finally {
      await Promise.all(fakes.map((f) => f.close()));
    }
  });

  it("retries ARM 500, 503 and connection resets", async () => {
    const { fake, url } = await startFake();
    fake.fail("vm", faults.serverError()).fail("vm", faults.serviceUnavailable(1)).fail("vm", faults.reset());
    fake.schedule(2000, { vm: "Succeeded" });
    const run = await waiter(url);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    assert.deepEqual(
      vmCalls(fake)
        .slice(0, 3)
        .map((c) => c.fault || c.status),
      [500, 503, "reset"],
    );
    assert.match(run.stderr, /ARM unreachable \(ECONNRESET\)/);
  });

  it("aborts a hung ARM request after its own timeout and carries on", async () => {
    const { fake, url } = await startFake();
    fake.fail("vm", faults.hang());
    fake.schedule(1000, { vm: "Succeeded" });
    const run = await waiter(url);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    const vm = vmCalls(fake);
    assert.equal(vm[0].fault, "hang");
    const gap = vm[1].at - vm[0].at;
    assert.ok(
      gap >= ARM_REQUEST_TIMEOUT_MS && gap <= ARM_REQUEST_TIMEOUT_MS + 1200 + SLACK_MS,
      `retried ${gap} ms after the hung request`,
    );
    assert.match(run.stderr, /ARM unreachable \(ETIMEDOUT\) for the VM \(no answer in time\)/);
  });

  it("keeps waiting through a garbage 200, an unknown state, Updating and Migrating", async () => {
    const { fake, url } = await startFake();
    fake.fail("vm", faults.garbage());
    fake.timeline([
      // Each state lasts 1.5 s, longer than the ≤ 1.2 s between reads of the fast phase.
      { at: 1500, vm: "Updating" },
      { at: 3000, vm: "Migrating" },
      { at: 4500, vm: "Hibernating" },
      { at: 6000, vm: "Succeeded" },
    ]);
    const run = await waiter(url);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    for (const s of ["unreadable", "Updating", "Migrating", "Hibernating"])
      assert.ok(run.stderr.indexOf(`VM provisioningState ${s}`) >= 0, s);
    assert.ok(run.exitedAt - fake.changedAt("vm", "Succeeded")! <= 1200 + SLACK_MS);
  });

  it("refreshes an expiring token before ARM rejects it, and retries once at once after a 401", async () => {
    const { fake, url } = await startFake({ tokenLifetimeSeconds: 4 });
    fake.schedule(3000, { fault: { route: "vm", fault: faults.expiredToken() } });
    fake.schedule(7000, { vm: "Succeeded" });
    const run = await waiter(url);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    assert.ok(fake.callsTo("token").length >= 4, `${fake.callsTo("token").length} token requests`);
    const i = fake.calls.findIndex((c) => c.status === 401);
    assert.deepEqual([fake.calls[i + 1].route, fake.calls[i + 2].route], ["token", "vm"]);
    assert.ok(fake.calls[i + 2].at - fake.calls[i].at <= 300);
    assert.equal(
      fake.calls.filter((c) => c.status === 401).length,
      1,
      "only the injected 401: tokens are refreshed before expiry",
    );
  });

  it("exits with the gone code within a second of Deleting, and on a 404", async () => {
    for (const state of ["Deleting", "NotFound"]) {
      const { fake, url } = await startFake();
      fake.schedule(1200, { vm: state });
      const run = await waiter(url);
      assert.equal(run.code, EXIT_CODES.gone, `${state}: ${run.stderr}`);
      assert.ok(run.exitedAt - fake.changedAt("vm", state)! <= 1200 + SLACK_MS);
      await fake.close();
    }
  });

  it("exits with the failed code on Failed", async () => {
    const { fake, url } = await startFake();
    fake.schedule(500, { vm: "Failed" });
    const run = await waiter(url);
    assert.equal(run.code, EXIT_CODES.failed, run.stderr);
  });

  it("exits with the timeout code at the timeout, never early, even with a request hanging", async () => {
    const { fake, url } = await startFake();
    const run = await runWaiterProcess(["--imds-url", url, "--arm-url", url, "--timeout", "2"]);
    assert.equal(run.code, EXIT_CODES.timeout, run.stderr);
    const took = run.exitedAt - run.startedAt;
    assert.ok(took >= 2000 && took <= 2000 + SLACK_MS, `${took} ms`);
    fake.failFor("vm", faults.hang(), 60000);
    const hung = await runWaiterProcess(["--imds-url", url, "--arm-url", url, "--timeout", "2.5"]);
    assert.equal(hung.code, EXIT_CODES.timeout, hung.stderr);
    const took2 = hung.exitedAt - hung.startedAt;
    assert.ok(took2 >= 2500 && took2 <= 2500 + SLACK_MS, `${took2} ms with a hung request`);
  });

  it("--overprovisioned: waits for the scale set, re-reads the VM, exits 0", async () => {
    const { fake, url } = await startFake();
    fake.timeline([
      { at: 500, vm: "Succeeded" },
      { at: 3000, scaleSet: "Succeeded" },
    ]);
    const run = await waiter(url, ["--overprovisioned"]);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    const arm = fake.calls.filter((c) => c.route === "vm" || c.route === "scaleSet");
    assert.equal(arm[arm.length - 1].route, "vm");
    assert.equal(arm[arm.length - 2].route, "scaleSet");
    assert.ok(run.exitedAt >= fake.changedAt("scaleSet", "Succeeded")!);
    assert.match(run.stderr, /survived the cull/);
  });

  it("--overprovisioned: exits gone when the VM is culled by the scale-out", async () => {
    const { fake, url } = await startFake();
    fake.timeline([
      { at: 300, vm: "Succeeded" },
      { at: 1500, vm: "NotFound" },
      { at: 2000, scaleSet: "Succeeded" },
    ]);
    const run = await waiter(url, ["--overprovisioned"]);
    assert.equal(run.code, EXIT_CODES.gone, run.stderr);
  });

  it("--overprovisioned on a Flexible id: skips the scale-set check and says why", async () => {
    const { fake, url } = await startFake({ resourceId: FLEXIBLE_RESOURCE_ID, vmState: "Succeeded" });
    const run = await waiter(url, ["--overprovisioned"]);
    assert.equal(run.code, EXIT_CODES.succeeded, run.stderr);
    assert.equal(fake.callsTo("scaleSet").length, 0);
    assert.match(run.stderr, /scale-set check skipped/);
  });

  it("exits with the usage code when the cloud is unknown and no --arm-url is given", async () => {
    const { url } = await startFake({ azEnvironment: "AzureStackCloud" });
    const run = await runWaiterProcess(["--imds-url", url, "--timeout", "10"]);
    assert.equal(run.code, EXIT_CODES.usage, run.stderr);
    assert.match(run.stderr, /azEnvironment "AzureStackCloud".*pass --arm-url/);
  });
});
