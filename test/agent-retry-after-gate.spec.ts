/**
 * The Retry-After gate (context.ts `sendAt`, the one place it is enforced) seen from every path
 * that waits on it: the kept-file watch between ARM reads, the token refresh while the old token
 * still works, and a Retry-After date read against the wall clock while deadlines run on the
 * monotonic one. The 429/503 basics are in agent-retry.spec.ts.
 */
import { strict as assert } from "assert";
import { RETRY_AFTER_JITTER_MS } from "../agent/src/core/pollPolicy";
import type { Env } from "../agent/src/core/types";
import { runWaiter } from "../agent/src/core/waiter";
import { FakeAzure, faults } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate } from "../testkit/fake-azure/simulate";
import { VirtualClock, virtualEnv, VIRTUAL_URL } from "../testkit/fake-azure/virtualEnv";

const KEPT = "/var/lib/hpc-workers/kept";

describe("agent core: every wait goes through the Retry-After gate (virtual time)", () => {
  it("while watching for the kept file, never reads ARM before a 429's Retry-After has elapsed", async () => {
    const sim = await simulate(
      (f) => {
        f.schedule(3000, { fault: { route: "vm", fault: faults.throttled(30) } });
        f.schedule(120000, { vm: "Deleting" });
      },
      { keptFile: KEPT },
    );
    assert.equal(sim.outcome.kind, "gone");
    const vm = sim.fake.callsTo("vm");
    const i = vm.findIndex((c) => c.status === 429);
    const wait = vm[i + 1].at - vm[i].at;
    // The proof-wait period (8-9.2 s) is due long before the 30 s; the file watch wakes every 0.5 s meanwhile.
    assert.ok(wait >= 30000, `read ${wait} ms after a 429 with Retry-After 30`);
    assert.ok(wait <= 30000 + RETRY_AFTER_JITTER_MS + 50, `read ${wait} ms after a 429 with Retry-After 30`);
  });

  it("a Retry-After on a failed token refresh does not hold up ARM reads while the old token is valid", async () => {
    const sim = await simulate(
      (f) => {
        // The 600 s token is due for refresh at 300 s: the identity endpoint answers 429, Retry-After 120 s.
        f.schedule(290000, {
          fault: {
            route: "token",
            fault: faults.status(429, '{"error":"Too many requests"}', { "Retry-After": "120" }),
          },
        });
        f.schedule(500000, { vm: "Succeeded" });
      },
      { fake: { tokenLifetimeSeconds: 600 } },
    );
    assert.equal(sim.outcome.kind, "succeeded");
    const token = sim.fake.callsTo("token");
    assert.deepEqual(
      token.map((c) => c.status),
      [200, 429, 200],
    );
    assert.ok(token[2].at - token[1].at >= 120000, "the refresh waited out its Retry-After");
    const during = sim.fake.callsTo("vm").filter((c) => c.at > token[1].at && c.at < token[2].at);
    // Reads every ≥ 5 s (the per-VM refill) go on with the old token: about 24 in 120 s.
    assert.ok(during.length >= 15, `${during.length} ARM reads while the refresh waited`);
    assert.ok(
      sim.logs.some((l) => /IMDS 429 .*identity token .*the current token is still valid, so polling goes on/.test(l)),
    );
  });

  const EPOCH = Date.UTC(2025, 0, 1);

  /**
   * The waiter against the fake, its answers without a Date header; now() either monotonic (ms since
   * boot, as process.hrtime) beside an epoch wallNow(), or epoch ms itself with no wallNow().
   */
  async function runWithoutDateHeader(clocks: "monotonic and wall" | "epoch only", retryAfter: string) {
    const boot = clocks === "epoch only" ? EPOCH : 12345;
    const clock = new VirtualClock(boot);
    const fake = new FakeAzure({ clock: clock.now });
    const run = virtualEnv(fake, clock);
    const env: Env = {
      ...run.env,
      wallNow: clocks === "epoch only" ? undefined : () => clock.t - boot + EPOCH,
      request: async (req) => {
        const res = await run.env.request(req);
        if (res.kind !== "response") return res;
        const { date: _date, ...headers } = res.headers;
        return { ...res, headers };
      },
    };
    fake.schedule(2000, { fault: { route: "vm", fault: faults.throttled(retryAfter) } });
    fake.schedule(60000, { vm: "Succeeded" });
    const outcome = await runWaiter(env, { imdsUrl: VIRTUAL_URL, armUrl: VIRTUAL_URL, timeoutSeconds: 600 });
    const vm = fake.callsTo("vm");
    const i = vm.findIndex((c) => c.status === 429);
    return { outcome, nextAt: vm[i + 1].at - boot };
  }

  for (const clocks of ["monotonic and wall", "epoch only"] as const) {
    it(`reads a Retry-After date against the wall clock when the answer has no Date header (${clocks})`, async () => {
      // The 429 comes at about 2-3 s; the date names 40 s after the start.
      const run = await runWithoutDateHeader(clocks, new Date(EPOCH + 40000).toUTCString());
      assert.equal(run.outcome.kind, "succeeded");
      assert.ok(run.nextAt >= 40000, `read at ${run.nextAt} ms`);
      assert.ok(run.nextAt <= 40000 + RETRY_AFTER_JITTER_MS + 50, `read at ${run.nextAt} ms`);
    });
  }
});
