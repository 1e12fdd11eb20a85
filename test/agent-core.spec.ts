/**
 * The pure core in virtual time: runWaiter against FakeAzure through a fake clock (no real
 * sleeps: an hour of polling takes milliseconds). Happy paths, clouds, IMDS faults and the
 * final states; ARM faults are in agent-arm-faults.spec.ts, the retry table in
 * agent-retry.spec.ts, the kept-file proof in agent-kept-file.spec.ts.
 */
import { strict as assert } from "assert";
import * as fc from "fast-check";
import { CLOUDS } from "../agent/src/core/constants";
import { EXIT_CODES, exitCodeFor } from "../agent/src/core/exitCodes";
import { DEFAULT_RESOURCE_ID, faults, FLEXIBLE_RESOURCE_ID } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate, sinceStart as rel } from "../testkit/fake-azure/simulate";
import { VIRTUAL_URL } from "../testkit/fake-azure/virtualEnv";

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
      assert.equal(sim.fake.callsTo("scaleSet").length, 0, "the waiter never reads the scale set");
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
});
