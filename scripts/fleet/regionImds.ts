/**
 * IMDS as a simulated region (./region.ts) answers one instance: its managed identity's tokens (20/s
 * and 5 in flight per VM), and its instance metadata (5/s per VM), in testkit/fake-azure's wire formats.
 */
import type { HttpRequest, HttpResult } from "../../agent/src/core/types";
import { imdsError, jsonAnswer, tokenBody } from "../../testkit/fake-azure/wire";
import { IMDS_RTT_MS, MANAGED_IDENTITY_CONCURRENT_PER_VM, MI_TOKEN_LIFETIME_S } from "./constants";
import type { VmTimeline } from "./platform";
import type { RegionBuckets, RegionCounters } from "./regionBuckets";
import { instanceMetadata } from "./regionWire";

/** An answer, its round trip, and what to do once the caller has it (an identity call leaves the in-flight count). */
export interface TimedAnswer {
  result: HttpResult;
  rttMs: number;
  done?: () => void;
}

export function answerImds(
  vm: VmTimeline,
  req: HttpRequest,
  now: number,
  buckets: RegionBuckets,
  counters: RegionCounters,
): TimedAnswer {
  const answer = (a: ReturnType<typeof jsonAnswer>, done?: () => void) => ({
    result: { kind: "response" as const, ...a },
    rttMs: IMDS_RTT_MS,
    done,
  });
  if ((req.headers["Metadata"] ?? req.headers["metadata"]) !== "true")
    return answer(jsonAnswer(400, imdsError.missingMetadataHeader()));
  const state = buckets.forVm(vm, now);
  const url = new URL(req.url);
  if (url.pathname === "/metadata/identity/oauth2/token") {
    if (state.identityInFlight >= MANAGED_IDENTITY_CONCURRENT_PER_VM || !state.identity.take(now)) {
      counters.throttledByImds++;
      return answer(jsonAnswer(429, imdsError.throttled()));
    }
    state.identityInFlight++;
    const token = `sim-token-${vm.index}`;
    const body = tokenBody(token, now, MI_TOKEN_LIFETIME_S, url.searchParams.get("resource") ?? "");
    return answer(jsonAnswer(200, body), () => state.identityInFlight--);
  }
  if (!state.imds.take(now)) {
    counters.throttledByImds++;
    return answer(jsonAnswer(429, imdsError.throttled()));
  }
  if (!url.pathname.startsWith("/metadata/instance")) return answer({ status: 404, headers: {}, body: "Not found" });
  let node: unknown = instanceMetadata(vm);
  for (const part of url.pathname.slice("/metadata/instance".length).split("/").filter(Boolean)) {
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
  }
  if (node === undefined) return answer({ status: 404, headers: {}, body: "Not found" });
  if (url.searchParams.get("format") === "text")
    return answer({ status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: String(node) });
  return answer(jsonAnswer(200, node));
}
