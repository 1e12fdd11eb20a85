/**
 * The pure core in virtual time: runWaiter against FakeAzure through a fake clock, one
 * scenario per fault class, plus the small pure pieces (flags, ids, Retry-After, clouds).
 * No real sleeps: an hour of polling takes milliseconds.
 */
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { parseArgs } from "../agent/src/core/args";
import { ARM_REQUEST_TIMEOUT_MS, CLOUDS, DEFAULT_IMDS_URL, DEFAULT_TIMEOUT_SECONDS } from "../agent/src/core/constants";
import { EXIT_CODES, exitCodeFor } from "../agent/src/core/exitCodes";
import { runWaiter } from "../agent/src/core/index";
import { parseVmId } from "../agent/src/core/resourceId";
import { retryAfterMs } from "../agent/src/core/retryAfter";
import type { Outcome, WaiterOptions } from "../agent/src/core/types";
import { DEFAULT_RESOURCE_ID, FakeAzure, faults, FLEXIBLE_RESOURCE_ID } from "../testkit/fake-azure/index";
import type { FakeAzureOptions, FakeCall } from "../testkit/fake-azure/index";
import { VirtualClock, virtualEnv, VIRTUAL_URL } from "../testkit/fake-azure/virtualEnv";

interface Sim {
  outcome: Outcome;
  fake: FakeAzure;
  logs: string[];
  /** Virtual ms from the waiter's start to its end. */
  elapsed: number;
  /** Virtual epoch ms when the waiter started. */
  start: number;
  urls: string[];
}

async function simulate(
  setup: (fake: FakeAzure) => void,
  opts: Partial<WaiterOptions> & { fake?: FakeAzureOptions; seed?: number } = {},
): Promise<Sim> {
  const clock = new VirtualClock();
  const fake = new FakeAzure({ clock: clock.now, ...opts.fake });
  setup(fake);
  const run = virtualEnv(fake, clock, { seed: opts.seed ?? 1 });
  const start = clock.t;
  const { fake: _f, seed: _s, ...waiterOpts } = opts;
  const outcome = await runWaiter(run.env, {
    imdsUrl: VIRTUAL_URL,
    armUrl: VIRTUAL_URL,
    timeoutSeconds: 3600,
    overprovisioned: false,
    ...waiterOpts,
  });
  return { outcome, fake, logs: run.logs, elapsed: clock.t - start, start, urls: run.requests.map((r) => r.url) };
}

/** ms after the waiter's start at which the call went out. */
const rel = (sim: Sim, call: FakeCall) => call.at - sim.start;

describe("agent core (virtual time)", () => {
  describe("happy paths", () => {
    it("reads resourceId, azEnvironment and a token from IMDS, then polls the VM until Succeeded", async () => {
      const sim = await simulate((f) => f.schedule(10000, { vm: "Succeeded" }));
      assert.deepEqual(sim.outcome, { kind: "succeeded" });
      const routes = sim.fake.calls.map((c) => c.route);
      assert.deepEqual(routes.slice(0, 4), ["imds", "imds", "token", "vm"]);
      assert.deepEqual(
        sim.fake.calls.slice(0, 2).map((c) => c.path),
        ["/metadata/instance/compute/resourceId", "/metadata/instance/compute/azEnvironment"],
      );
      assert.equal(sim.fake.calls[0].query["format"], "text");
      assert.equal(sim.fake.calls[2].query["api-version"], "2018-02-01");
      assert.equal(sim.fake.calls[2].query["resource"], "https://management.azure.com/");
      for (const c of sim.fake.callsTo("vm")) assert.equal(c.query["api-version"], "2024-11-01");
      assert.ok(sim.fake.calls.every((c) => c.status === 200));
      assert.equal(sim.fake.callsTo("token").length, 1, "the token is cached");
    });

    it("sends its first ARM read as soon as the token is at hand", async () => {
      const sim = await simulate(() => undefined, { timeoutSeconds: 5 });
      const token = sim.fake.callsTo("token")[0];
      const firstRead = sim.fake.callsTo("vm")[0];
      assert.ok(firstRead.at - token.at <= 50, `${firstRead.at - token.at} ms between the token and the first read`);
    });

    it("sees Succeeded within 1.3 s when it comes in the first 20 s, for any jitter", async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 1, max: 1e9 }), async (flip, seed) => {
          const sim = await simulate((f) => f.schedule(flip, { vm: "Succeeded" }), { seed });
          assert.equal(sim.outcome.kind, "succeeded");
          const latency = sim.elapsed - Math.max(flip, 0);
          assert.ok(latency <= 1300, `Succeeded at ${flip} ms seen ${latency} ms later`);
        }),
        { numRuns: 40 },
      );
    });

    it("stays within the per-VM and principal budgets over a 1 h Creating phase, then sees Succeeded within 7 s", async () => {
      for (const seed of [1, 2, 3]) {
        const sim = await simulate((f) => f.schedule(3600000, { vm: "Succeeded" }), { seed, timeoutSeconds: 7200 });
        assert.equal(sim.outcome.kind, "succeeded");
        assert.equal(sim.fake.budgetViolations, 0, "a read found the 36/12-per-min bucket empty");
        assert.ok(sim.elapsed - 3600000 <= 7000, `latency ${sim.elapsed - 3600000} ms`);
        assert.ok(sim.fake.callsTo("vm").every((c) => c.status === 200));
      }
    });

    it('accepts Succeeded in any case (the scale-set spec example says "succeeded")', async () => {
      const sim = await simulate((f) => f.schedule(3000, { vm: "succeeded" }));
      assert.deepEqual(sim.outcome, { kind: "succeeded" });
    });

    it("logs one line per state change, not one per poll", async () => {
      const sim = await simulate((f) =>
        f.timeline([
          { at: 20000, vm: "Updating" },
          { at: 40000, vm: "Succeeded" },
        ]),
      );
      assert.ok(sim.fake.callsTo("vm").length > 10);
      assert.equal(sim.logs.filter((l) => /provisioningState Creating/.test(l)).length, 1);
      assert.equal(sim.logs.filter((l) => /provisioningState Updating/.test(l)).length, 1);
      assert.ok(/reading again in \d+\.\d s/.test(sim.logs.find((l) => /Creating/.test(l))!));
    });
  });

  describe("clouds", () => {
    it("maps the three clouds' azEnvironment (any case) to ARM and token resource", async () => {
      const cases: Array<[string, string]> = [
        ["AzurePublicCloud", "https://management.azure.com/"],
        ["AZUREPUBLICCLOUD", "https://management.azure.com/"],
        ["AzureUSGovernmentCloud", "https://management.usgovcloudapi.net/"],
        ["AzureChinaCloud", "https://management.chinacloudapi.cn/"],
      ];
      for (const [azEnvironment, arm] of cases) {
        const sim = await simulate((f) => f.setVmState("Succeeded"), { armUrl: undefined, fake: { azEnvironment } });
        assert.equal(sim.outcome.kind, "succeeded", azEnvironment);
        assert.equal(sim.fake.callsTo("token")[0].query["resource"], arm);
        const armUrl = sim.urls.find((u) => u.indexOf("/subscriptions/") >= 0)!;
        assert.equal(armUrl, `${arm.replace(/\/$/, "")}${DEFAULT_RESOURCE_ID}?api-version=2024-11-01`);
      }
      assert.deepEqual(Object.keys(CLOUDS).sort(), ["azurechinacloud", "azurepubliccloud", "azureusgovernmentcloud"]);
    });

    it("keeps the cloud's token resource when --arm-url overrides the endpoint", async () => {
      const sim = await simulate((f) => f.setVmState("Succeeded"), {
        fake: { azEnvironment: "AzureUSGovernmentCloud" },
      });
      assert.equal(sim.fake.callsTo("token")[0].query["resource"], "https://management.usgovcloudapi.net/");
    });

    it("ends with the usage code for an unknown azEnvironment without --arm-url, and uses --arm-url when given", async () => {
      const lost = await simulate(() => undefined, { armUrl: undefined, fake: { azEnvironment: "AzureStackCloud" } });
      assert.equal(lost.outcome.kind, "usage");
      assert.equal(exitCodeFor(lost.outcome), EXIT_CODES.usage);
      assert.ok(/--arm-url/.test(lost.logs.join("\n")));
      assert.equal(lost.fake.callsTo("vm").length, 0);
      const given = await simulate((f) => f.setVmState("Succeeded"), { fake: { azEnvironment: "AzureStackCloud" } });
      assert.equal(given.outcome.kind, "succeeded");
      assert.equal(given.fake.callsTo("token")[0].query["resource"], `${VIRTUAL_URL}/`);
    });
  });

  describe("IMDS and identity faults", () => {
    it("retries while IMDS refuses connections, then answers 404, 429 and 500", async () => {
      const sim = await simulate((f) => {
        f.fail("imds", faults.refuse(), 3)
          .fail("imds", faults.imdsNotFound())
          .fail("imds", faults.imdsThrottled())
          .fail("imds", faults.serverError());
        f.setVmState("Succeeded");
      });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.equal(sim.fake.callsTo("imds").length, 6 + 2);
      assert.ok(sim.logs.some((l) => /IMDS unreachable .*ECONNREFUSED.*retrying in/.test(l)));
      assert.ok(sim.logs.some((l) => /IMDS 429/.test(l)));
    });

    it("waits out a 70 s IMDS 410 and carries on within 6 s of its end", async () => {
      const sim = await simulate((f) => {
        f.failFor("imds", faults.imdsGone(), 70000);
        f.setVmState("Succeeded");
      });
      assert.equal(sim.outcome.kind, "succeeded");
      const ok = sim.fake.callsTo("imds").find((c) => c.status === 200)!;
      assert.ok(rel(sim, ok) >= 70000 && rel(sim, ok) <= 76000, `IMDS answered at ${rel(sim, ok)} ms`);
      assert.ok(sim.logs.some((l) => /IMDS 410 .*up to 70 s/.test(l)));
    });

    it("waits for the identity to be attached (400 Identity not found, then 404)", async () => {
      const sim = await simulate((f) => {
        f.setIdentityAttached(false);
        f.schedule(30000, { identity: true });
        f.fail("token", faults.imdsNotFound());
        f.setVmState("Succeeded");
      });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.ok(sim.fake.callsTo("token").filter((c) => c.status === 400).length >= 3);
      assert.ok(sim.logs.some((l) => /Identity not found.*no managed identity attached yet.*retrying in/.test(l)));
      assert.ok(sim.elapsed >= 30000 && sim.elapsed <= 37000, `${sim.elapsed} ms`);
    });

    it("retries an IMDS 200 whose body is not a resource id", async () => {
      const sim = await simulate((f) => {
        f.fail("imds", faults.garbage());
        f.setVmState("Succeeded");
      });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.ok(sim.logs.some((l) => /unusable body/.test(l)));
    });
  });

  describe("ARM faults", () => {
    it("keeps waiting through RBAC propagation (403 AuthorizationFailed for 10 min) and says so", async () => {
      const sim = await simulate((f) => {
        f.setRbacReady(false);
        f.schedule(600000, { rbac: true });
        f.schedule(60000, { vm: "Succeeded" });
      });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.ok(sim.elapsed >= 600000 && sim.elapsed <= 620000, `${sim.elapsed} ms`);
      const forbidden = sim.fake.callsTo("vm").filter((c) => c.status === 403).length;
      assert.ok(forbidden >= 20 && forbidden <= 80, `${forbidden} reads during 10 min of 403`);
      assert.ok(sim.logs.some((l) => /ARM 403 AuthorizationFailed .*RBAC not propagated yet.*retrying in \d/.test(l)));
    });

    const HTTP_DATE = "date";
    for (const [name, header, waitMs] of [
      ["Retry-After in seconds", "Retry-After", 7000],
      ["Retry-After as an HTTP date", HTTP_DATE, 30000],
      ["retry-after-ms", "retry-after-ms", 2500],
      ["x-ms-retry-after-ms", "x-ms-retry-after-ms", 4200],
    ] as Array<[string, string, number]>) {
      it(`never calls ARM before a 429's ${name} has elapsed`, async () => {
        // The 429 answers the first read after 5 s; an HTTP date names a whole second 30 s after that.
        const clockStart = Date.UTC(2025, 0, 1);
        const dateValue = new Date(clockStart + 5000 + 1000 + waitMs).toUTCString();
        const fault =
          header === HTTP_DATE
            ? faults.throttled(dateValue)
            : faults.throttled(header === "Retry-After" ? waitMs / 1000 : waitMs, header);
        const sim = await simulate((f) => {
          f.schedule(5000, { fault: { route: "vm", fault } });
          f.schedule(60000, { vm: "Succeeded" });
        });
        assert.equal(sim.outcome.kind, "succeeded");
        const vm = sim.fake.callsTo("vm");
        const i = vm.findIndex((c) => c.status === 429);
        assert.ok(i >= 0 && rel(sim, vm[i]) >= 5000);
        const notBefore = header === HTTP_DATE ? Date.parse(dateValue) : vm[i].at + waitMs;
        // The floor is the contract; how much later the policy comes back is its to tune.
        assert.ok(vm[i + 1].at >= notBefore, `next read ${notBefore - vm[i + 1].at} ms before the Retry-After elapsed`);
        assert.ok(sim.logs.some((l) => /ARM 429 TooManyRequests .*throttled; Retry-After/.test(l)));
      });
    }

    it("honours Retry-After on a 503 too", async () => {
      const sim = await simulate((f) => {
        f.fail("vm", faults.serviceUnavailable(9));
        f.schedule(20000, { vm: "Succeeded" });
      });
      const vm = sim.fake.callsTo("vm");
      assert.equal(vm[0].status, 503);
      assert.ok(vm[1].at - vm[0].at >= 9000);
      assert.equal(sim.outcome.kind, "succeeded");
    });

    it("gives up at the deadline, not before, when a Retry-After runs past it, and makes no call after the 429", async () => {
      for (const timeoutSeconds of [5, 60]) {
        const sim = await simulate((f) => f.fail("vm", faults.throttled(3600)), { timeoutSeconds });
        assert.equal(sim.outcome.kind, "timeout");
        assert.equal(sim.elapsed, timeoutSeconds * 1000);
        assert.equal(sim.fake.callsTo("vm").length, 1);
      }
    });

    it("retries 500s, resets and hung requests, each bounded by its own timeout", async () => {
      const sim = await simulate((f) => {
        f.fail("vm", faults.serverError())
          .fail("vm", faults.reset())
          .fail("vm", faults.hang())
          .fail("vm", faults.serviceUnavailable());
        f.schedule(5000, { vm: "Succeeded" });
      });
      assert.equal(sim.outcome.kind, "succeeded");
      const vm = sim.fake.callsTo("vm");
      assert.deepEqual(
        vm.slice(0, 4).map((c) => c.fault || c.status),
        [500, "reset", "hang", 503],
      );
      assert.ok(vm[3].at - vm[2].at >= ARM_REQUEST_TIMEOUT_MS && vm[3].at - vm[2].at <= ARM_REQUEST_TIMEOUT_MS + 5000);
      assert.ok(sim.logs.some((l) => /ARM unreachable \(ETIMEDOUT\) .*no answer in time/.test(l)));
    });

    it("keeps waiting through unparsable bodies, unknown states, Updating and Migrating", async () => {
      const sim = await simulate((f) => {
        f.fail("vm", faults.garbage());
        f.timeline([
          { at: 2000, vm: "Updating" },
          { at: 4000, vm: "Migrating" },
          { at: 6000, vm: "SomethingNew" },
          { at: 8000, vm: "Succeeded" },
        ]);
      });
      assert.equal(sim.outcome.kind, "succeeded");
      for (const s of ["unreadable", "Updating", "Migrating", "SomethingNew"]) {
        assert.ok(
          sim.logs.some((l) => l.indexOf(`VM provisioningState ${s}`) >= 0),
          s,
        );
      }
    });

    it("refreshes the token once and retries at once on a 401", async () => {
      const sim = await simulate((f) => {
        f.schedule(3000, { fault: { route: "vm", fault: faults.expiredToken() } });
        f.schedule(10000, { vm: "Succeeded" });
      });
      assert.equal(sim.outcome.kind, "succeeded");
      const calls = sim.fake.calls;
      const i = calls.findIndex((c) => c.status === 401);
      assert.deepEqual([calls[i + 1].route, calls[i + 2].route], ["token", "vm"]);
      assert.ok(calls[i + 2].at - calls[i].at <= 100);
      assert.equal(sim.fake.callsTo("token").length, 2);
    });

    it("keeps polling with backoff when the refreshed token is rejected too", async () => {
      const sim = await simulate((f) => {
        f.fail("vm", faults.expiredToken(), 4);
        f.schedule(30000, { vm: "Succeeded" });
      });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.ok(sim.logs.some((l) => /token still rejected after a refresh.*retrying in/.test(l)));
    });

    it("refreshes a token before it expires during a long wait (no 401 ever)", async () => {
      const sim = await simulate((f) => f.schedule(1800000, { vm: "Succeeded" }), {
        fake: { tokenLifetimeSeconds: 600 },
      });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.ok(sim.fake.callsTo("token").length >= 3);
      assert.ok(sim.fake.calls.every((c) => c.status !== 401));
    });

    it("keeps polling with the old token while a refresh fails", async () => {
      const sim = await simulate(
        (f) => {
          // Refresh is due at 900 - 300 = 600 s; the identity endpoint fails from 590 s to 710 s.
          f.schedule(590000, { fault: { route: "token", fault: faults.serverError(), durationMs: 120000 } });
          f.schedule(800000, { vm: "Succeeded" });
        },
        { fake: { tokenLifetimeSeconds: 900 } },
      );
      assert.equal(sim.outcome.kind, "succeeded");
      assert.ok(sim.fake.callsTo("token").filter((c) => c.status === 500).length >= 3);
      const reads = sim.fake.callsTo("vm").filter((c) => rel(sim, c) > 610000 && rel(sim, c) < 700000);
      assert.ok(reads.length >= 5, `${reads.length} reads while the refresh failed`);
      assert.ok(sim.fake.calls.every((c) => c.status !== 401));
    });

    it("never logs a token", async () => {
      const sim = await simulate((f) => {
        f.fail("vm", faults.expiredToken());
        f.fail("vm", faults.rbacNotPropagated());
        f.schedule(5000, { vm: "Succeeded" });
      });
      const all = sim.logs.join("\n");
      assert.ok(sim.fake.tokens.length >= 2);
      for (const t of sim.fake.tokens) assert.equal(all.indexOf(t), -1);
    });
  });

  describe("final states", () => {
    it("ends gone at the first read of Deleting", async () => {
      const sim = await simulate((f) => f.schedule(7000, { vm: "Deleting" }));
      assert.equal(sim.outcome.kind, "gone");
      assert.equal(exitCodeFor(sim.outcome), EXIT_CODES.gone);
      assert.ok(sim.elapsed - 7000 <= 1300);
    });

    it("ends gone at the first 404 for the VM (Uniform NotFound and Flexible ResourceNotFound bodies)", async () => {
      for (const resourceId of [DEFAULT_RESOURCE_ID, FLEXIBLE_RESOURCE_ID]) {
        const sim = await simulate((f) => f.schedule(4000, { vm: "NotFound" }), { fake: { resourceId } });
        assert.equal(sim.outcome.kind, "gone");
        assert.ok(sim.elapsed - 4000 <= 1300);
        assert.equal(sim.fake.callsTo("vm").filter((c) => c.status === 404).length, 1, "never loops on a 404");
      }
    });

    it("ends failed at the first read of Failed", async () => {
      const sim = await simulate((f) => f.schedule(2000, { vm: "Failed" }));
      assert.equal(sim.outcome.kind, "failed");
      assert.equal(exitCodeFor(sim.outcome), EXIT_CODES.failed);
    });

    it("ends with timeout exactly at the deadline, never before", async () => {
      for (const timeoutSeconds of [1, 30, 333.3]) {
        const sim = await simulate(() => undefined, { timeoutSeconds });
        assert.equal(sim.outcome.kind, "timeout");
        assert.equal(sim.elapsed, timeoutSeconds * 1000);
        assert.ok(/timed out after .*last VM provisioningState Creating|timed out/.test(sim.logs[sim.logs.length - 1]));
      }
    });

    it("times out on time while IMDS never answers, or the request hangs past the deadline", async () => {
      const a = await simulate((f) => f.failFor("imds", faults.hang(), 1e9), { timeoutSeconds: 12 });
      assert.equal(a.outcome.kind, "timeout");
      assert.equal(a.elapsed, 12000);
      const b = await simulate((f) => f.fail("vm", faults.hang()), { timeoutSeconds: 3 });
      assert.equal(b.outcome.kind, "timeout");
      assert.equal(b.elapsed, 3000);
    });
  });

  describe("--overprovisioned", () => {
    it("after the VM's Succeeded, waits for the scale set's Succeeded, then re-reads the VM once", async () => {
      const sim = await simulate(
        (f) =>
          f.timeline([
            { at: 5000, vm: "Succeeded" },
            { at: 25000, scaleSet: "Succeeded" },
          ]),
        { overprovisioned: true },
      );
      assert.deepEqual(sim.outcome, { kind: "succeeded" });
      const arm = sim.fake.calls.filter((c) => c.route === "vm" || c.route === "scaleSet");
      const firstSet = arm.findIndex((c) => c.route === "scaleSet");
      assert.ok(rel(sim, arm[firstSet]) >= 5000);
      assert.equal(arm[arm.length - 1].route, "vm", "ends with the VM re-read");
      assert.equal(arm[arm.length - 2].route, "scaleSet");
      assert.equal(arm.slice(firstSet).filter((c) => c.route === "vm").length, 1);
      assert.ok(sim.elapsed >= 25000);
      assert.ok(sim.logs.some((l) => /survived the cull/.test(l)));
    });

    it("ends gone when the VM is culled while the scale set finishes (404 or Deleting)", async () => {
      for (const culled of ["NotFound", "Deleting"]) {
        const sim = await simulate(
          (f) =>
            f.timeline([
              { at: 5000, vm: "Succeeded" },
              { at: 15000, vm: culled },
              { at: 18000, scaleSet: "Succeeded" },
            ]),
          { overprovisioned: true },
        );
        assert.equal(sim.outcome.kind, "gone", culled);
      }
    });

    it("treats a Failed scale set as the end of the scale-out and still checks the VM", async () => {
      const sim = await simulate(
        (f) =>
          f.timeline([
            { at: 1000, vm: "Succeeded" },
            { at: 9000, scaleSet: "Failed" },
          ]),
        { overprovisioned: true },
      );
      assert.equal(sim.outcome.kind, "succeeded");
      assert.equal(sim.fake.calls[sim.fake.calls.length - 1].route, "vm");
    });

    it("ends gone when the scale set itself is being deleted", async () => {
      const sim = await simulate(
        (f) =>
          f.timeline([
            { at: 1000, vm: "Succeeded" },
            { at: 4000, scaleSet: "Deleting" },
          ]),
        { overprovisioned: true },
      );
      assert.equal(sim.outcome.kind, "gone");
    });

    it("without the flag, the VM's Succeeded is enough (no scale-set read)", async () => {
      const sim = await simulate((f) => f.schedule(2000, { vm: "Succeeded" }));
      assert.equal(sim.fake.callsTo("scaleSet").length, 0);
    });

    it("skips the scale-set check for a Flexible id and says why", async () => {
      const sim = await simulate((f) => f.schedule(2000, { vm: "Succeeded" }), {
        overprovisioned: true,
        fake: { resourceId: FLEXIBLE_RESOURCE_ID },
      });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.equal(sim.fake.callsTo("scaleSet").length, 0);
      assert.ok(sim.logs.some((l) => /scale-set check skipped.*only Uniform scale sets overprovision/.test(l)));
    });

    it("times out on time while the scale set never settles", async () => {
      const sim = await simulate((f) => f.setVmState("Succeeded"), { overprovisioned: true, timeoutSeconds: 120 });
      assert.equal(sim.outcome.kind, "timeout");
      assert.equal(sim.elapsed, 120000);
      assert.ok(/scale set provisioningState Updating/.test(sim.logs[sim.logs.length - 1]));
    });
  });
});

describe("agent core: pure pieces", () => {
  it("parses flags with defaults, both --flag value and --flag=value", () => {
    assert.deepEqual(parseArgs([]), {
      kind: "run",
      options: {
        imdsUrl: DEFAULT_IMDS_URL,
        armUrl: undefined,
        timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
        overprovisioned: false,
      },
    });
    assert.deepEqual(
      parseArgs([
        "--imds-url",
        "http://127.0.0.1:8080/",
        "--arm-url=https://arm.example/base/",
        "--timeout",
        "90",
        "--overprovisioned",
      ]),
      {
        kind: "run",
        options: {
          imdsUrl: "http://127.0.0.1:8080",
          armUrl: "https://arm.example/base",
          timeoutSeconds: 90,
          overprovisioned: true,
        },
      },
    );
    assert.equal((parseArgs(["--timeout=2.5"]) as any).options.timeoutSeconds, 2.5);
    assert.deepEqual(parseArgs(["--help"]), { kind: "help" });
  });

  it("rejects unknown flags and bad values with a message naming the flag", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--verbose"], /unknown flag --verbose/],
      [["--timeout"], /--timeout needs a value/],
      [["--timeout", "0"], /--timeout must be a number of seconds greater than 0 \(got "0"\)/],
      [["--timeout", "-5"], /--timeout must be/],
      [["--timeout", "ten"], /--timeout must be/],
      [["--timeout", "1e3"], /--timeout must be/],
      [["--imds-url", "169.254.169.254"], /--imds-url must be an absolute http/],
      [["--arm-url", "ftp://x"], /--arm-url must use http/],
      [["--arm-url", "https://x/?a=1"], /without query/],
      [["--overprovisioned=yes"], /takes no value/],
      [["extra"], /unexpected argument "extra"/],
    ];
    for (const [argv, re] of cases) {
      const p = parseArgs(argv);
      assert.equal(p.kind, "error", argv.join(" "));
      assert.match((p as { message: string }).message, re);
    }
  });

  it("tells a Uniform instance id (with its scale set) from a Flexible one, case-insensitively", () => {
    assert.deepEqual(parseVmId(DEFAULT_RESOURCE_ID), {
      kind: "uniform",
      id: DEFAULT_RESOURCE_ID,
      scaleSetId: DEFAULT_RESOURCE_ID.replace(/\/virtualMachines\/0$/, ""),
    });
    assert.deepEqual(parseVmId(`${FLEXIBLE_RESOURCE_ID}\n`), { kind: "flexible", id: FLEXIBLE_RESOURCE_ID });
    assert.equal(parseVmId(DEFAULT_RESOURCE_ID.toLowerCase())!.kind, "uniform");
    for (const bad of [
      "",
      "<html>",
      "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v",
      `${DEFAULT_RESOURCE_ID}/extra`,
    ]) {
      assert.equal(parseVmId(bad), undefined, bad);
    }
  });

  it("reads Retry-After as seconds or an HTTP date, and the ms headers; the longest wins", () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0);
    assert.equal(retryAfterMs({ "retry-after": "12" }, now), 12000);
    assert.equal(retryAfterMs({ "retry-after-ms": "1500" }, now), 1500);
    assert.equal(retryAfterMs({ "x-ms-retry-after-ms": "250" }, now), 250);
    assert.equal(retryAfterMs({ "retry-after": "2", "retry-after-ms": "5000" }, now), 5000);
    assert.equal(
      retryAfterMs({ "retry-after": "Wed, 01 Jan 2025 12:00:30 GMT", date: "Wed, 01 Jan 2025 12:00:10 GMT" }, 0),
      20000,
    );
    assert.equal(retryAfterMs({ "retry-after": "Wed, 01 Jan 2025 12:00:30 GMT" }, now), 30000);
    assert.equal(retryAfterMs({ "retry-after": "Wed, 01 Jan 2025 11:00:00 GMT" }, now), 0);
    assert.equal(retryAfterMs({ "retry-after": "soon" }, now), undefined);
    assert.equal(retryAfterMs({}, now), undefined);
  });

  it("has distinct exit codes, 0 only for succeeded and none equal to 1 (Node's crash code)", () => {
    const codes: number[] = Object.values(EXIT_CODES);
    assert.equal(new Set(codes).size, codes.length);
    assert.equal(EXIT_CODES.succeeded, 0);
    assert.ok(codes.indexOf(1) < 0);
    assert.deepEqual(EXIT_CODES, { succeeded: 0, usage: 2, gone: 3, failed: 4, timeout: 5 });
  });
});
