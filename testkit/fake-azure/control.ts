/**
 * FakeAzure's control endpoint (/_fake/...), for shells and other processes (the qemu e2e, cli.ts):
 * read the calls and the state, set states, queue faults, schedule Scheduled Events. Only the
 * fake's public API; its paths are listed in ./README.md.
 */
import { json } from "./faults";
import type { FakeAzure } from "./index";
import { scheduledEventsControl } from "./scheduledEvents";
import { FAKE_ROUTES } from "./types";
import type { FakeAnswer, FakeFault, FakeRoute } from "./types";

/** The answer to a control request, or undefined when no control path matches. */
export function fakeControl(fake: FakeAzure, method: string, pathname: string, body: string): FakeAnswer | undefined {
  const text = body.trim();
  const ok = json(200, { ok: true, state: fake.state });
  if (method === "GET" && pathname === "/_fake/calls") return json(200, fake.calls);
  if (method === "GET" && pathname === "/_fake/state") return json(200, { ...fake.state, changes: fake.changes });
  if (pathname.indexOf("/_fake/scheduled-events") === 0)
    return scheduledEventsControl(fake.scheduledEvents, method, pathname, text);
  if (method !== "POST") return undefined;
  switch (pathname) {
    case "/_fake/vm-state":
      fake.setVmState(text);
      return ok;
    case "/_fake/scale-set-state":
      fake.setScaleSetState(text);
      return ok;
    case "/_fake/identity":
      fake.setIdentityAttached(text !== "missing" && text !== "false");
      return ok;
    case "/_fake/rbac":
      fake.setRbacReady(text !== "pending" && text !== "false");
      return ok;
    case "/_fake/instances": {
      // [{"instanceId":"0","provisioningState":"Succeeded","health":"healthy"}, ...]
      try {
        fake.setInstances(JSON.parse(text));
      } catch (e) {
        return json(400, { error: "body must be a JSON array of {instanceId, provisioningState?, health?}" });
      }
      return ok;
    }
    case "/_fake/revoke-tokens":
      fake.revokeTokens();
      return ok;
    case "/_fake/fault": {
      // {"route":"vm","fault":{"status":429,"headers":{"Retry-After":"5"}},"times":2} or {"...","durationMs":70000}
      let spec: { route: FakeRoute; fault: FakeFault; times?: number; durationMs?: number };
      try {
        spec = JSON.parse(text);
      } catch (e) {
        return json(400, { error: "body must be JSON: {route, fault, times?, durationMs?}" });
      }
      if (!(FAKE_ROUTES as readonly string[]).includes(spec.route))
        return json(400, { error: `route must be one of ${FAKE_ROUTES.join(", ")}` });
      if (spec.durationMs !== undefined) fake.failFor(spec.route, spec.fault, spec.durationMs);
      else fake.fail(spec.route, spec.fault, spec.times ?? 1);
      return ok;
    }
    default:
      return undefined;
  }
}
