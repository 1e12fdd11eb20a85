/**
 * What an operator reads in journald: the waiter's lines, in virtual time, for each kind of run.
 * Each line names what happened (the status, Azure's error code, the state, the file) and what
 * the waiter does next; the last one names the exit code. Waits and times are normalised to "N s"
 * (the poll policy's business, tuned with the fleet simulation); that the times are the waiter's
 * own clock is checked once, below.
 */
import { strict as assert } from "assert";
import type { Env } from "../agent/src/core/types";
import { runWaiter } from "../agent/src/core/waiter";
import {
  DEFAULT_RESOURCE_ID,
  DEFAULT_VM_ID,
  FakeAzure,
  faults,
  FLEXIBLE_RESOURCE_ID,
} from "../testkit/fake-azure/index";
import type { FakeAzureOptions } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate } from "../testkit/fake-azure/simulate";
import type { Sim } from "../testkit/fake-azure/simulate";
import { VirtualClock, virtualEnv, VIRTUAL_URL } from "../testkit/fake-azure/virtualEnv";

const KEPT = "/var/lib/hpc-workers/kept";
const OTHER_VM_ID = "11111111-2222-4333-8444-555555555555";
const TOKEN = "got a managed identity token for https://management.azure.com/; will refresh it in N s";
const UNIFORM = `this VM is ${DEFAULT_RESOURCE_ID}, a Uniform scale-set instance; cloud AzurePublicCloud, ARM ${VIRTUAL_URL}`;
const NO_PROOF = `no kept proof yet (${KEPT} does not hold this VM's vmId), so reading only often enough to see Deleting`;
const NO_ANSWER = "no answer: the network, DNS or the clock may still be settling";
const waiting = (timeout = 3600) => `waiting for this VM's provisioningState to be Succeeded (timeout ${timeout} s)`;

/** The lines without their virtual-time prefix, every "1.2 s" as "N s". */
function journal(sim: Sim): string[] {
  return sim.logs.map((l) => l.replace(/^\[\d+\.\d\] /, "").replace(/\d+\.\d s\b/g, "N s"));
}

describe("agent core: the journal, line by line (virtual time)", () => {
  it("a plain run: where it runs, the token, each state once, and the exit", async () => {
    const sim = await simulate((f) =>
      f.timeline([
        { at: 3000, vm: "Updating" },
        { at: 6000, vm: "Succeeded" },
      ]),
    );
    assert.deepEqual(journal(sim), [
      waiting(),
      UNIFORM,
      TOKEN,
      "VM provisioningState Creating at N s; reading again in N s",
      "VM provisioningState Updating at N s; reading again in N s",
      "VM provisioningState Succeeded at N s; exit 0 (succeeded)",
    ]);
  });

  it("stamps every line's own 'at' with the time since the waiter started", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.serverError());
      f.timeline([
        { at: 4000, vm: "Updating" },
        { at: 9000, vm: "Failed" },
      ]);
    });
    const stamped = sim.logs.filter((l) => / at \d+\.\d s/.test(l));
    assert.equal(stamped.length, 3, stamped.join("\n"));
    for (const line of stamped) {
      const [, prefix, at] = /^\[(\d+\.\d)\] .* at (\d+\.\d) s/.exec(line)!;
      assert.equal(at, prefix, line);
    }
    assert.match(
      sim.logs[sim.logs.length - 1],
      /^\[(\d+\.\d)\] VM provisioningState Failed at \1 s; exit 4 \(failed\)$/,
    );
  });

  it("keeps the waits it logs: each 'retrying in' / 'reading again in' is the gap to the next request", async () => {
    const sim = await simulate((f) => {
      f.fail("imds", faults.refuse(), 3);
      f.fail("token", faults.serverError()).fail("token", faults.status(503, "", { "retry-after-ms": "4000" }));
      f.fail("vm", faults.serverError(), 3).fail("vm", faults.throttled(7)).fail("vm", faults.rbacNotPropagated(), 2);
      f.timeline([
        { at: 70000, vm: "Updating" },
        { at: 80000, vm: "Succeeded" },
      ]);
    });
    assert.equal(sim.outcome.kind, "succeeded");
    const LATENCY = 20; // the virtual Env's
    let checked = 0;
    for (const line of sim.logs) {
      const m = /^\[(\d+\.\d)\] .*(?:retrying in|reading again in) (\d+\.\d) s$/.exec(line);
      if (!m) continue;
      const at = Math.round(parseFloat(m[1]) * 1000);
      const route = / for identity token /.test(line) ? "token" : / for compute\//.test(line) ? "imds" : "vm";
      const calls = sim.fake.callsTo(route);
      const i = calls.findIndex((c) => Math.abs(c.at - sim.start + LATENCY - at) <= 50);
      assert.ok(i >= 0 && i + 1 < calls.length, `no ${route} request answered at ${at} ms: ${line}`);
      const gap = calls[i + 1].at - calls[i].at - LATENCY;
      assert.ok(Math.abs(gap - parseFloat(m[2]) * 1000) <= 50, `${line}: the next request came ${gap} ms later`);
      checked++;
    }
    // IMDS 3, the token 2, ARM 500 3, 429 1, 403 2, then Creating and Updating.
    assert.equal(checked, 3 + 2 + 3 + 1 + 2 + 2);
  });

  it("a Flexible member with --kept-file: another VM's file is ignored, once; this VM's file, with Succeeded, ends it", async () => {
    const sim = await simulate(
      (f, files) => {
        files.write(KEPT, `${OTHER_VM_ID}\n`);
        f.schedule(2000, { vm: "Succeeded" });
        files.schedule(20000, KEPT, `${OTHER_VM_ID}\n\n`);
        files.schedule(25000, KEPT, f.vmId);
      },
      { keptFile: KEPT, fake: { resourceId: FLEXIBLE_RESOURCE_ID } },
    );
    assert.deepEqual(journal(sim), [
      `waiting for this VM's provisioningState to be Succeeded and ${KEPT} to hold this VM's vmId (timeout 3600 s)`,
      `this VM is ${FLEXIBLE_RESOURCE_ID}, a Flexible scale-set member or standalone VM; cloud AzurePublicCloud, ARM ${VIRTUAL_URL}`,
      `kept file ${KEPT} holds vmId "${OTHER_VM_ID}", not this VM's ${DEFAULT_VM_ID}: ignored, since a file from another ` +
        "VM (an image captured from a worker) proves nothing; waiting as if it were absent",
      TOKEN,
      `VM provisioningState Creating at N s; ${NO_PROOF}; reading again in N s`,
      `VM provisioningState Succeeded at N s; ${NO_PROOF}; reading again in N s`,
      `kept file ${KEPT} holds this VM's vmId ${DEFAULT_VM_ID}: the scale set keeps this VM`,
      `VM provisioningState Succeeded and kept file ${KEPT} holds this VM's vmId at N s; exit 0 (succeeded)`,
    ]);
  });

  it("--kept-file: the file first (read ARM at once), then gone again at Succeeded (wait for it again)", async () => {
    const sim = await simulate(
      (f, files) => {
        files.schedule(5000, KEPT, f.vmId);
        f.schedule(12000, { vm: "Succeeded" });
        files.schedule(11000, KEPT, undefined);
        files.schedule(30000, KEPT, f.vmId);
      },
      { keptFile: KEPT },
    );
    assert.deepEqual(journal(sim), [
      `waiting for this VM's provisioningState to be Succeeded and ${KEPT} to hold this VM's vmId (timeout 3600 s)`,
      UNIFORM,
      `kept file ${KEPT} is absent: Succeeded alone will not start the worker (vmId ${DEFAULT_VM_ID})`,
      TOKEN,
      `VM provisioningState Creating at N s; ${NO_PROOF}; reading again in N s`,
      `kept file ${KEPT} holds this VM's vmId ${DEFAULT_VM_ID}: the scale set keeps this VM`,
      "the kept file came before ARM's Succeeded: the extension runs, so reading ARM at once, then fast",
      `kept file ${KEPT} no longer holds this VM's vmId; waiting for it again`,
      `VM provisioningState Succeeded at N s; ${NO_PROOF}; reading again in N s`,
      `kept file ${KEPT} holds this VM's vmId ${DEFAULT_VM_ID}: the scale set keeps this VM`,
      `VM provisioningState Succeeded and kept file ${KEPT} holds this VM's vmId at N s; exit 0 (succeeded)`,
    ]);
  });

  it("every fault class on the way: what it was, why it is retried, and the exit on Deleting", async () => {
    const sim = await simulate((f) => {
      f.fail("imds", faults.refuse(), 2);
      f.setIdentityAttached(false);
      f.schedule(3000, { identity: true });
      f.fail("vm", faults.rbacNotPropagated())
        .fail("vm", faults.expiredToken())
        .fail("vm", faults.throttled(7))
        .fail("vm", faults.serverError())
        .fail("vm", faults.reset())
        .fail("vm", faults.hang())
        .fail("vm", faults.garbage());
      f.schedule(90000, { vm: "Deleting" });
    });
    assert.deepEqual(sim.outcome, { kind: "gone", reason: "VM provisioningState Deleting" });
    assert.deepEqual(journal(sim), [
      waiting(),
      `IMDS unreachable (ECONNREFUSED) for compute/resourceId (${NO_ANSWER}); retrying in N s`,
      `IMDS unreachable (ECONNREFUSED) for compute/resourceId (${NO_ANSWER}); retrying in N s`,
      "IMDS compute/resourceId: answered after 2 failed attempt(s)",
      UNIFORM,
      "IMDS 400 invalid_request: Identity not found for identity token (no managed identity attached yet); retrying in N s",
      "IMDS identity token: answered after 1 failed attempt(s)",
      TOKEN,
      "ARM 403 AuthorizationFailed for the VM (RBAC not propagated yet: a new role assignment takes up to 10 min to apply); " +
        "retrying in N s",
      "ARM 401 ExpiredAuthenticationToken for the VM (token rejected or expired); refreshing the token and retrying now",
      TOKEN,
      "ARM 429 TooManyRequests for the VM (throttled; Retry-After N s); retrying in N s",
      "ARM 500 InternalServerError for the VM (transient); retrying in N s",
      `ARM unreachable (ECONNRESET) for the VM (${NO_ANSWER}); retrying in N s`,
      `ARM unreachable (ETIMEDOUT) for the VM (${NO_ANSWER}); retrying in N s`,
      'VM provisioningState unreadable (200 without a readable provisioningState: "<html><body>502 Bad Gateway</body></html>") ' +
        "at N s; reading again in N s",
      "VM provisioningState Creating at N s; reading again in N s",
      "VM provisioningState Deleting at N s: this VM is being deleted; exit 3 (gone)",
    ]);
  });

  it("a token rejected twice: refreshed once at once, then retried as a fault", async () => {
    const sim = await simulate((f) => {
      f.fail("vm", faults.expiredToken(), 2);
      f.schedule(5000, { vm: "Succeeded" });
    });
    assert.deepEqual(journal(sim).slice(2, 7), [
      TOKEN,
      "ARM 401 ExpiredAuthenticationToken for the VM (token rejected or expired); refreshing the token and retrying now",
      TOKEN,
      "ARM 401 ExpiredAuthenticationToken for the VM (token still rejected after a refresh); retrying in N s",
      TOKEN,
    ]);
  });

  it("the final answers: refused (ARM and IMDS, with Azure's message), Failed, 404, and an unknown cloud", async () => {
    const cases: Array<[string, (f: FakeAzure) => void, FakeAzureOptions, string]> = [
      [
        "ARM 400",
        (f) =>
          f.fail(
            "vm",
            faults.status(
              400,
              JSON.stringify({
                error: { code: "InvalidApiVersionParameter", message: "The\napi-version  is invalid." },
              }),
            ),
          ),
        {},
        'ARM 400 InvalidApiVersionParameter "The api-version is invalid." for the VM at N s: refused, because the request ' +
          "itself is wrong, and waiting cannot heal that; exit 6 (refused)",
      ],
      [
        "IMDS 400",
        (f) =>
          f.fail(
            "imds",
            faults.status(
              400,
              JSON.stringify({ error: "bad_request", error_description: "Required metadata header not specified" }),
            ),
          ),
        {},
        "IMDS 400 bad_request: Required metadata header not specified for compute/resourceId at N s: refused, because the " +
          "request itself is wrong, and waiting cannot heal that; exit 6 (refused)",
      ],
      ["Failed", (f) => f.schedule(2000, { vm: "Failed" }), {}, "VM provisioningState Failed at N s; exit 4 (failed)"],
      [
        "404",
        (f) => f.schedule(2000, { vm: "NotFound" }),
        {},
        "ARM 404 NotFound for the VM at N s: it no longer exists; exit 3 (gone)",
      ],
      [
        "unknown cloud",
        () => undefined,
        { azEnvironment: "AzureStackCloud" },
        'IMDS reports azEnvironment "AzureStackCloud", whose ARM endpoint this agent does not know: pass --arm-url; exit 2 (usage)',
      ],
    ];
    for (const [name, setup, fake, last] of cases) {
      const sim = await simulate(setup, { fake, armUrl: name === "unknown cloud" ? undefined : VIRTUAL_URL });
      const lines = journal(sim);
      assert.equal(lines[lines.length - 1], last, name);
    }
  });

  it("the timeout names the last thing learnt: ARM's last state, or IMDS's last fault", async () => {
    const arm = await simulate(() => undefined, { timeoutSeconds: 4 });
    assert.deepEqual(arm.outcome, {
      kind: "timeout",
      reason: "no final state within 4.0 s (last VM provisioningState Creating)",
    });
    assert.deepEqual(journal(arm).slice(-2), [
      "VM provisioningState Creating at N s; reading again in N s",
      "timed out after N s (last VM provisioningState Creating); exit 5 (timeout)",
    ]);
    const imds = await simulate((f) => f.failFor("imds", faults.serverError(), 1e9), { timeoutSeconds: 4 });
    assert.deepEqual(imds.outcome, {
      kind: "timeout",
      reason: "no final state within 4.0 s (last: IMDS 500 InternalServerError for compute/resourceId (transient))",
    });
    assert.equal(journal(imds)[1], "IMDS 500 InternalServerError for compute/resourceId (transient); retrying in N s");
    const hung = await simulate((f) => f.fail("vm", faults.hang()), { timeoutSeconds: 3 });
    assert.equal(
      journal(hung).pop(),
      "timed out after N s (last: ARM unreachable (ETIMEDOUT) for the VM); exit 5 (timeout)",
    );
    // IMDS twice and the token, 20 ms each: the deadline comes just as the first ARM read would go.
    const early = await simulate(() => undefined, { timeoutSeconds: 0.06 });
    assert.equal(journal(early).pop(), "timed out after N s (ARM has not answered); exit 5 (timeout)");
  });

  it("reports a kept file that is not this VM's by its first 80 characters, and an empty one as holding no vmId", async () => {
    const sim = await simulate(
      (f, files) => {
        files.write(KEPT, `  ${"y".repeat(100)}  `);
        files.schedule(3000, KEPT, "\n");
        f.schedule(6000, { vm: "Deleting" });
      },
      { keptFile: KEPT },
    );
    const ignored = journal(sim).filter((l) => l.indexOf(`kept file ${KEPT} holds `) === 0);
    assert.deepEqual(ignored, [
      `kept file ${KEPT} holds vmId "${"y".repeat(80)}", not this VM's ${DEFAULT_VM_ID}: ignored, since a file from ` +
        "another VM (an image captured from a worker) proves nothing; waiting as if it were absent",
      `kept file ${KEPT} holds no vmId, not this VM's ${DEFAULT_VM_ID}: ignored, since a file from another VM (an image ` +
        "captured from a worker) proves nothing; waiting as if it were absent",
    ]);
  });

  it("names Azure's error code and message as far as the body gives them, and quotes a body only in part", async () => {
    const long = "x".repeat(300);
    const json = (v: unknown) => JSON.stringify(v);
    const cases: Array<["imds" | "vm", number, string, string]> = [
      ["vm", 500, json({ error: { message: "no code" } }), "ARM 500 for the VM (transient); retrying in N s"],
      ["vm", 500, "null", "ARM 500 for the VM (transient); retrying in N s"],
      ["vm", 409, json({ error: { code: "Conflict" } }), "ARM 409 Conflict for the VM at N s: refused, because "],
      [
        "vm",
        400,
        json({ error: { code: "Bad", message: long } }),
        `ARM 400 Bad "${"x".repeat(200)}..." for the VM at N s`,
      ],
      ["imds", 404, json({ error: "Not found" }), "IMDS 404 Not found for compute/resourceId (IMDS is updating"],
      ["imds", 500, json({ error: "oops", error_description: 5 }), "IMDS 500 oops for compute/resourceId (transient)"],
      [
        "imds",
        200,
        ` a\n\tb ${long}`,
        `IMDS compute/resourceId: 200 with an unusable body ("a b ${"x".repeat(76)}...")`,
      ],
      ["imds", 200, " \n ", "IMDS compute/resourceId: 200 with an unusable body (empty); retrying in N s"],
    ];
    for (const [route, status, body, line] of cases) {
      const sim = await simulate((f) => {
        f.fail(route, faults.status(status, body));
        f.setVmState("Succeeded");
      });
      assert.ok(
        journal(sim).some((l) => l.indexOf(line) === 0),
        `${route} ${status} ${body.slice(0, 40)}:\n${journal(sim).join("\n")}`,
      );
    }
  });

  it("keeps each event on one line and never prints a token, even one that turns up in what it logs", async () => {
    const clock = new VirtualClock();
    const fake = new FakeAzure({ clock: clock.now });
    const run = virtualEnv(fake, clock);
    // A file that echoes the first token issued, over two lines: it is logged as another VM's id.
    const env: Env = {
      ...run.env,
      readFile: async () => (fake.tokens.length ? `${fake.tokens[0]}\r\nsecond line` : undefined),
    };
    fake.schedule(3000, { vm: "Deleting" });
    const outcome = await runWaiter(env, {
      imdsUrl: VIRTUAL_URL,
      armUrl: VIRTUAL_URL,
      timeoutSeconds: 60,
      keptFile: KEPT,
    });
    assert.equal(outcome.kind, "gone");
    assert.equal(fake.tokens.length, 1);
    const all = run.logs.join("\n");
    assert.equal(all.indexOf(fake.tokens[0]), -1);
    assert.ok(run.logs.every((l) => !/[\r\n]/.test(l)));
    assert.ok(
      run.logs.some((l) => l.indexOf(`kept file ${KEPT} holds vmId "[token] second line", not this VM's`) >= 0),
      all,
    );
  });
});
