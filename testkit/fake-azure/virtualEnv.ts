/**
 * A virtual-time Env wired to a FakeAzure: sleep() advances the clock at once, requests are
 * answered by fake.handle() after `latencyMs` of virtual time, a hang costs the request's own
 * timeoutMs. An hour of polling runs in milliseconds, deterministically (seeded random).
 *
 *   const clock = new VirtualClock();
 *   const fake = new FakeAzure({ clock: clock.now });
 *   const { env, logs, files } = virtualEnv(fake, clock, { seed: 1 });
 *   files.schedule(9000, "/var/lib/hpc-workers/kept", fake.vmId);   // the extension writes it at 9 s
 *   const outcome = await runWaiter(env, { imdsUrl: VIRTUAL_URL, armUrl: VIRTUAL_URL, timeoutSeconds: 60, keptFile: "/var/lib/hpc-workers/kept" });
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

/**
 * A file system in virtual time: files written now or at a scheduled moment (ms from now, on
 * the shared clock), read by the waiter through Env.readFile.
 */
export class VirtualFiles {
  private readonly files = new Map<string, string>();
  private readonly scheduled: Array<{ at: number; path: string; text: string | undefined }> = [];
  /** Every read, with the virtual time it happened. */
  readonly reads: Array<{ at: number; path: string }> = [];

  constructor(private readonly clock: VirtualClock) {}

  write(path: string, text: string): this {
    this.files.set(path, text);
    return this;
  }

  remove(path: string): this {
    this.files.delete(path);
    return this;
  }

  /** Writes `text` (or removes the file, for undefined) afterMs from now. */
  schedule(afterMs: number, path: string, text: string | undefined): this {
    this.scheduled.push({ at: this.clock.t + afterMs, path, text });
    this.scheduled.sort((a, b) => a.at - b.at);
    return this;
  }

  read(path: string): string | undefined {
    while (this.scheduled.length && this.scheduled[0].at <= this.clock.t) {
      const { path: p, text } = this.scheduled.shift()!;
      if (text === undefined) this.files.delete(p);
      else this.files.set(p, text);
    }
    this.reads.push({ at: this.clock.t, path });
    return this.files.get(path);
  }
}

export interface VirtualRun {
  env: Env;
  /** The files the waiter reads (the kept file). */
  files: VirtualFiles;
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
  const files = new VirtualFiles(clock);
  const env: Env = {
    now: () => clock.t,
    wallNow: () => clock.t,
    sleep: (ms: number) => {
      clock.t += Math.max(0, ms);
      return Promise.resolve();
    },
    random,
    readFile: (path: string) => Promise.resolve(files.read(path)),
    log: (line: string) => logs.push(`[${((clock.t - start) / 1000).toFixed(1)}] ${line}`),
    request: (req: HttpRequest): Promise<HttpResult> => {
      if (requests.length >= maxRequests) throw new Error(`more than ${maxRequests} requests: the waiter is looping`);
      requests.push({ ...req, at: clock.t });
      const answer = fake.handle({ method: req.method, url: req.url, headers: req.headers, body: req.body });
      const delay = answer.kind === "respond" ? (answer.delayMs ?? 0) : 0;
      if (answer.kind === "hang" || (delay > 0 && delay + latency > req.timeoutMs)) {
        clock.t += req.timeoutMs;
        return Promise.resolve({ kind: "error", code: "ETIMEDOUT", message: "hung" });
      }
      clock.t += delay;
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
  return { env, files, logs, requests };
}
