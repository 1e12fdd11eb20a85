/**
 * A virtual-time Env wired to a FakeAzure: sleep() advances the clock at once, requests are
 * answered by fake.handle() after `latencyMs` of virtual time, a hang costs the request's own
 * timeoutMs. An hour of polling runs in milliseconds, deterministically (seeded random).
 *
 *   const clock = new VirtualClock();
 *   const fake = new FakeAzure({ clock: clock.now });
 *   const { env, logs } = virtualEnv(fake, clock, { seed: 1 });
 *   const outcome = await runWaiter(env, { imdsUrl: VIRTUAL_URL, armUrl: VIRTUAL_URL, timeoutSeconds: 60, overprovisioned: false });
 */
import type { Env, HttpRequest, HttpResult } from "../../agent/src/core/types";
import type { FakeAzure } from "./index";

/** Any URL works: the virtual Env sends everything to the fake. */
export const VIRTUAL_URL = "http://fake.invalid";

export class VirtualClock {
  t: number;
  constructor(startEpochMs = Date.UTC(2025, 0, 1)) {
    this.t = startEpochMs;
  }
  /** Bound, so it can be passed as FakeAzureOptions.clock. */
  readonly now = (): number => this.t;
}

/** mulberry32: small, seeded, good enough for jitter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface VirtualRun {
  env: Env;
  /** Every line the waiter logged, prefixed with virtual seconds since the start. */
  logs: string[];
  /** Every request the waiter made, with the virtual time it went out. */
  requests: Array<HttpRequest & { at: number }>;
}

export function virtualEnv(
  fake: FakeAzure,
  clock: VirtualClock,
  opts: { seed?: number; latencyMs?: number; maxRequests?: number } = {},
): VirtualRun {
  const random = seededRandom(opts.seed ?? 1);
  const latency = opts.latencyMs ?? 20;
  const maxRequests = opts.maxRequests ?? 100000;
  const start = clock.t;
  const logs: string[] = [];
  const requests: VirtualRun["requests"] = [];
  const env: Env = {
    now: () => clock.t,
    wallNow: () => clock.t,
    sleep: (ms: number) => {
      clock.t += Math.max(0, ms);
      return Promise.resolve();
    },
    random,
    log: (line: string) => logs.push(`[${((clock.t - start) / 1000).toFixed(1)}] ${line}`),
    request: (req: HttpRequest): Promise<HttpResult> => {
      if (requests.length >= maxRequests) throw new Error(`more than ${maxRequests} requests: the waiter is looping`);
      requests.push({ ...req, at: clock.t });
      const answer = fake.handle({ method: req.method, url: req.url, headers: req.headers });
      if (answer.kind === "hang") {
        clock.t += req.timeoutMs;
        return Promise.resolve({ kind: "error", code: "ETIMEDOUT", message: "hung" });
      }
      clock.t += Math.min(latency, req.timeoutMs);
      if (answer.kind === "reset")
        return Promise.resolve({ kind: "error", code: "ECONNRESET", message: "socket hang up" });
      if (answer.kind === "refuse")
        return Promise.resolve({ kind: "error", code: "ECONNREFUSED", message: "connect ECONNREFUSED" });
      const headers: Record<string, string> = {};
      for (const name of Object.keys(answer.headers)) headers[name.toLowerCase()] = answer.headers[name];
      return Promise.resolve({ kind: "response", status: answer.status, headers, body: answer.body });
    },
  };
  return { env, logs, requests };
}
