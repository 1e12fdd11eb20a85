/**
 * The managed-identity token's life (token.ts): what a token response means, when it is
 * refreshed, and that an expired token is never sent, in virtual time.
 * https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
 */
import { strict as assert } from "assert";
import { TOKEN_FALLBACK_LIFETIME_MS, TOKEN_REFRESH_MARGIN_MS } from "../agent/src/core/constants";
import { parseToken } from "../agent/src/core/token";
import { faults } from "../testkit/fake-azure/index";
import { simulateWaiter as simulate, sinceStart as rel } from "../testkit/fake-azure/simulate";

const NOW = 50000;
const WALL = Date.UTC(2025, 0, 1);

describe("agent core: the managed-identity token (token.ts)", () => {
  describe("reading a token response (numbers are strings)", () => {
    it("takes expires_in as the lifetime and refreshes 5 min before the end", () => {
      const body = JSON.stringify({ access_token: "tok", expires_in: "3599", expires_on: "1" });
      assert.deepEqual(parseToken(body, NOW, WALL), {
        value: "tok",
        expiresAt: NOW + 3599000,
        refreshAt: NOW + 3599000 - TOKEN_REFRESH_MARGIN_MS,
      });
      assert.equal(TOKEN_REFRESH_MARGIN_MS, 300000);
    });

    it("refreshes a short-lived token at half its life, not 5 min before an end that comes sooner", () => {
      const body = JSON.stringify({ access_token: "tok", expires_in: "120" });
      assert.deepEqual(parseToken(body, NOW, WALL), { value: "tok", expiresAt: NOW + 120000, refreshAt: NOW + 60000 });
    });

    it("falls back to expires_on (epoch seconds, against the wall clock) without a usable expires_in", () => {
      for (const expiresIn of [undefined, "", "0", "soon"]) {
        const body = JSON.stringify({
          access_token: "tok",
          expires_in: expiresIn,
          expires_on: String(WALL / 1000 + 900),
        });
        assert.deepEqual(
          parseToken(body, NOW, WALL),
          { value: "tok", expiresAt: NOW + 900000, refreshAt: NOW + 600000 },
          `expires_in ${expiresIn}`,
        );
      }
    });

    it("assumes a 5 min lifetime when neither says a future end, refreshing it at half", () => {
      for (const extra of [{}, { expires_on: String(WALL / 1000 - 60) }, { expires_in: "-5" }]) {
        const body = JSON.stringify({ access_token: "tok", ...extra });
        assert.deepEqual(
          parseToken(body, NOW, WALL),
          {
            value: "tok",
            expiresAt: NOW + TOKEN_FALLBACK_LIFETIME_MS,
            refreshAt: NOW + TOKEN_FALLBACK_LIFETIME_MS / 2,
          },
          JSON.stringify(extra),
        );
      }
      assert.equal(TOKEN_FALLBACK_LIFETIME_MS, 300000);
    });

    it("rejects a body that is not JSON or carries no access_token string", () => {
      for (const body of ["", "<html>", "null", "{}", '{"access_token":""}', '{"access_token":42}']) {
        assert.equal(parseToken(body, NOW, WALL), undefined, body);
      }
    });
  });

  describe("its life in a run (virtual time)", () => {
    it("fetches one token, says when it will refresh it, and refreshes it 5 min before it expires", async () => {
      const sim = await simulate((f) => f.schedule(3500000, { vm: "Succeeded" }), { timeoutSeconds: 7200 });
      assert.equal(sim.outcome.kind, "succeeded");
      const token = sim.fake.callsTo("token");
      assert.equal(token.length, 2);
      // Issued at about 0 s with expires_in 3599: due again at 3299 s, taken at the first ARM read after that.
      const refresh = rel(sim, token[1]) - rel(sim, token[0]);
      assert.ok(refresh >= 3299000 && refresh <= 3299000 + 10000, `refreshed after ${refresh} ms`);
      const got = sim.logs.filter((l) => /got a managed identity token/.test(l));
      assert.equal(got.length, 2);
      assert.match(
        got[0],
        /got a managed identity token for https:\/\/management\.azure\.com\/; will refresh it in 3299\.0 s$/,
      );
    });

    it("never sends an expired token: while a refresh fails, it reads ARM with the old one until it expires, then waits", async () => {
      const sim = await simulate(
        (f) => {
          // The 600 s token is due for refresh at 300 s; the identity endpoint fails from 290 s to 890 s.
          f.schedule(290000, { fault: { route: "token", fault: faults.serverError(), durationMs: 600000 } });
          f.schedule(1200000, { vm: "Succeeded" });
        },
        { fake: { tokenLifetimeSeconds: 600 } },
      );
      assert.equal(sim.outcome.kind, "succeeded");
      const reads = sim.fake.callsTo("vm").map((c) => rel(sim, c));
      assert.ok(reads.filter((t) => t > 310000 && t < 590000).length >= 10, "reads with the old token");
      assert.deepEqual(
        reads.filter((t) => t >= 600100 && t < 890000),
        [],
        "a read after the token expired",
      );
      assert.ok(
        reads.some((t) => t >= 890000 && t < 900000),
        "reads resume within 10 s of a new token",
      );
      // Kept going with the old one, it says so, not that it got a token.
      const got = sim.logs.filter((l) => /got a managed identity token/.test(l)).map((l) => parseFloat(l.slice(1)));
      assert.deepEqual(
        got.filter((s) => s > 1 && s < 880),
        [],
      );
      assert.ok(sim.logs.some((l) => /the current token is still valid, so polling goes on; next try in/.test(l)));
      assert.ok(sim.fake.calls.every((c) => c.status !== 401));
    });
  });
});
