/**
 * The retry taxonomy (retryTable.ts) and the Retry-After gate (context.ts sendAt): what ends
 * the wait and what is retried, for IMDS and ARM, and never a request before a Retry-After
 * has elapsed. Pure classification first, then the behaviour in virtual time.
 */
import { strict as assert } from "assert";
import { EXIT_CODES, exitCodeFor } from "../agent/src/core/exitCodes";
import { RETRY_AFTER_JITTER_MS } from "../agent/src/core/pollPolicy";
import { classify, RETRY_TABLE } from "../agent/src/core/retryTable";
import type { Service, Verdict } from "../agent/src/core/retryTable";
import type { HttpResult } from "../agent/src/core/types";
import { faults } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate, sinceStart as rel } from "../testkit/fake-azure/simulate";

const answer = (status: number, body = ""): HttpResult => ({ kind: "response", status, headers: {}, body });
const IDENTITY_NOT_FOUND = JSON.stringify({ error: "invalid_request", error_description: "Identity not found" });
const INVALID_API_VERSION = faults.status(
  400,
  JSON.stringify({
    error: {
      code: "InvalidApiVersionParameter",
      message:
        "The api-version '2024-11-01' is invalid. The supported versions are '2023-07-01,2022-12-01,2022-09-01'.",
    },
  }),
  { "content-type": "application/json; charset=utf-8" },
);

describe("agent retry taxonomy (retryTable.ts)", () => {
  describe("the table", () => {
    // [service, answer, verdict]: every row of the table is reached by at least one case.
    const cases: Array<[Service, HttpResult, Verdict]> = [
      ["arm", { kind: "error", code: "ECONNRESET", message: "" }, "transient"],
      ["imds", { kind: "error", code: "CERT_NOT_YET_VALID", message: "" }, "transient"],
      ["arm", answer(200), "answer"],
      ["imds", answer(200), "answer"],
      ["imds", answer(400, IDENTITY_NOT_FOUND), "transient"],
      ["imds", answer(400, '{"error":"Bad request. api-version is invalid"}'), "refused"],
      ["arm", answer(400, IDENTITY_NOT_FOUND), "refused"],
      ["imds", answer(404), "transient"],
      ["imds", answer(410), "transient"],
      ["arm", answer(410), "refused"],
      ["arm", answer(401), "reauthenticate"],
      ["imds", answer(401), "refused"],
      ["arm", answer(403), "forbidden"],
      ["imds", answer(403), "refused"],
      ["arm", answer(404), "gone"],
      ["arm", answer(405), "refused"],
      ["imds", answer(405), "refused"],
      ["arm", answer(408), "transient"],
      ["imds", answer(408), "transient"],
      ["arm", answer(409), "refused"],
      ["arm", answer(429), "throttled"],
      ["imds", answer(429), "throttled"],
      ["arm", answer(500), "transient"],
      ["imds", answer(500), "transient"],
      ["arm", answer(501), "refused"],
      ["arm", answer(502), "transient"],
      ["arm", answer(503), "transient"],
      ["arm", answer(504), "transient"],
      ["arm", answer(505), "refused"],
      ["arm", answer(302), "transient"],
      ["arm", answer(204), "transient"],
    ];
    for (const [service, res, verdict] of cases) {
      const label = res.kind === "error" ? res.code : `${res.status}${res.body ? ` ${res.body.slice(0, 40)}` : ""}`;
      it(`${service} ${label} → ${verdict}`, () => {
        assert.equal(classify(service, res).verdict, verdict);
      });
    }

    it("gives every row a reason, and ends with a row that matches every answer", () => {
      for (const rule of RETRY_TABLE) assert.ok(rule.why.length > 5, JSON.stringify(rule));
      const last = RETRY_TABLE[RETRY_TABLE.length - 1];
      assert.deepEqual([last.from, last.to, last.service, last.body], [0, 999, undefined, undefined]);
      const used = new Set(cases.map(([service, res]) => classify(service, res)));
      assert.equal(used.size, RETRY_TABLE.length, "a row no case reaches");
    });
  });

  describe("what cannot heal ends the wait: exit 6, refused", () => {
    it("ends at the first ARM 400 InvalidApiVersionParameter, with a line naming the code, the message and why", async () => {
      const sim = await simulate((f) => f.fail("vm", INVALID_API_VERSION, 1000));
      assert.equal(sim.outcome.kind, "refused");
      assert.equal(exitCodeFor(sim.outcome), EXIT_CODES.refused);
      assert.equal(EXIT_CODES.refused, 6);
      assert.equal(sim.fake.callsTo("vm").length, 1, "no retry of what cannot heal");
      const last = sim.logs[sim.logs.length - 1];
      assert.match(last, /ARM 400 InvalidApiVersionParameter "The api-version '2024-11-01' is invalid\./);
      assert.match(
        last,
        /refused, because the request itself is wrong, and waiting cannot heal that; exit 6 \(refused\)$/,
      );
    });

    it("ends at an ARM 405 or 501, and at an IMDS 400 that is not Identity not found", async () => {
      for (const status of [405, 501]) {
        const sim = await simulate((f) => f.fail("vm", faults.status(status), 1000));
        assert.equal(sim.outcome.kind, "refused", String(status));
        assert.equal(sim.fake.callsTo("vm").length, 1);
      }
      const imds = await simulate((f) =>
        f.fail("imds", faults.status(400, '{"error":"Bad request. api-version was not specified"}'), 1000),
      );
      assert.equal(imds.outcome.kind, "refused");
      assert.equal(imds.fake.callsTo("imds").length, 1);
      assert.match(imds.logs[imds.logs.length - 1], /IMDS 400 Bad request\. .*compute\/resourceId .*refused/);
    });

    it("keeps retrying 408 and 502-504 (transient) until Succeeded", async () => {
      const sim = await simulate((f) => {
        for (const status of [408, 502, 503, 504]) f.fail("vm", faults.status(status));
        f.schedule(20000, { vm: "Succeeded" });
      });
      assert.equal(sim.outcome.kind, "succeeded");
      assert.deepEqual(
        sim.fake
          .callsTo("vm")
          .slice(0, 4)
          .map((c) => c.status),
        [408, 502, 503, 504],
      );
    });
  });

  describe("Retry-After: one gate for IMDS and ARM, jitter only on top", () => {
    const HTTP_DATE = "date";
    for (const [name, header, waitMs] of [
      ["Retry-After in seconds", "Retry-After", 7000],
      ["Retry-After as an HTTP date", HTTP_DATE, 30000],
      ["retry-after-ms", "retry-after-ms", 2500],
      ["x-ms-retry-after-ms", "x-ms-retry-after-ms", 4200],
    ] as Array<[string, string, number]>) {
      it(`never calls ARM before a 429's ${name} has elapsed, nor more than 1 s later in a fast phase`, async () => {
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
        assert.ok(vm[i + 1].at >= notBefore, `next read ${notBefore - vm[i + 1].at} ms before the Retry-After elapsed`);
        // The fast phase's own period (≈ 2 s after a 429) is shorter than these waits: only the gate's jitter is on top.
        const late = vm[i + 1].at - notBefore;
        assert.ok(late <= RETRY_AFTER_JITTER_MS + 50, `next read ${late} ms after the Retry-After`);
        assert.ok(sim.logs.some((l) => /ARM 429 TooManyRequests for the VM \(throttled; Retry-After \d/.test(l)));
      });
    }

    it("honours Retry-After on an ARM 503 too", async () => {
      const sim = await simulate((f) => {
        f.fail("vm", faults.serviceUnavailable(9));
        f.schedule(20000, { vm: "Succeeded" });
      });
      const vm = sim.fake.callsTo("vm");
      assert.equal(vm[0].status, 503);
      assert.ok(vm[1].at - vm[0].at >= 9000);
      assert.equal(sim.outcome.kind, "succeeded");
    });

    it("honours an IMDS Retry-After (far beyond its own 5 s back-off cap), for instance metadata and the token", async () => {
      const sim = await simulate((f) => {
        f.fail("imds", faults.status(429, '{"error":"Too many requests"}', { "Retry-After": "20" }));
        f.fail("token", faults.status(503, "", { "retry-after-ms": "12000" }));
        f.setVmState("Succeeded");
      });
      assert.equal(sim.outcome.kind, "succeeded");
      const imds = sim.fake.callsTo("imds");
      assert.ok(imds[1].at - imds[0].at >= 20000, `IMDS retried after ${imds[1].at - imds[0].at} ms`);
      assert.ok(imds[1].at - imds[0].at <= 20000 + RETRY_AFTER_JITTER_MS + 50);
      const token = sim.fake.callsTo("token");
      assert.ok(token[1].at - token[0].at >= 12000, `token retried after ${token[1].at - token[0].at} ms`);
    });

    it("gives up at the deadline, not before, when a Retry-After runs past it, and makes no call after the 429", async () => {
      for (const timeoutSeconds of [5, 60]) {
        const sim = await simulate((f) => f.fail("vm", faults.throttled(3600)), { timeoutSeconds });
        assert.equal(sim.outcome.kind, "timeout");
        assert.equal(sim.elapsed, timeoutSeconds * 1000);
        assert.equal(sim.fake.callsTo("vm").length, 1);
      }
    });
  });
});
