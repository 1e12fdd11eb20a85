/**
 * What every step of the waiter shares: the Env, the deadline, the log (which never prints a
 * token), and the one door to the network, `send`, with the Retry-After gate `sendAt` beside it.
 */
import { exitCodeFor } from "./exitCodes";
import { retryAfterWithJitterMs } from "./pollPolicy";
import { retryAfterMs } from "./retryAfter";
import type { Service } from "./retryTable";
import type { Env, HttpResult, Outcome } from "./types";

export interface Token {
  value: string;
  refreshAt: number;
  expiresAt: number;
}

export interface Ctx {
  env: Env;
  start: number;
  deadline: number;
  imdsUrl: string;
  /** When the IMDS backoff allows the next IMDS request (Retry-After aside: see sendAt). */
  imdsRetryAt: number;
  /** Per service, the earliest moment the last answer's Retry-After (plus jitter) allows the next request. */
  notBefore: Record<Service, number>;
  token?: Token;
  /** Every token seen, so that no log line can carry one. */
  secrets: string[];
  /** The last thing learnt, for the timeout message. */
  last: string;
}

/** A step either goes on with a value or ends the wait with an outcome. */
export type Step<T> = { value: T } | { end: Outcome };

export function newCtx(env: Env, imdsUrl: string, timeoutSeconds: number): Ctx {
  const start = env.now();
  return {
    env,
    start,
    deadline: start + timeoutSeconds * 1000,
    imdsUrl,
    imdsRetryAt: start,
    notBefore: { imds: start, arm: start },
    secrets: [],
    last: "IMDS has not answered",
  };
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Time since the start, as the log lines say it. */
export function at(ctx: Ctx): string {
  return secs(ctx.env.now() - ctx.start);
}

export function log(ctx: Ctx, line: string): void {
  let out = line.replace(/[\r\n]+/g, " ");
  for (const secret of ctx.secrets) out = out.split(secret).join("[token]");
  ctx.env.log(out);
}

export function finish(ctx: Ctx, outcome: Outcome, line: string): { end: Outcome } {
  log(ctx, `${line}; exit ${exitCodeFor(outcome)} (${outcome.kind})`);
  return { end: outcome };
}

export function timeout(ctx: Ctx): { end: Outcome } {
  const total = secs(ctx.deadline - ctx.start);
  return finish(
    ctx,
    { kind: "timeout", reason: `no final state within ${total} (${ctx.last})` },
    `timed out after ${total} (${ctx.last})`,
  );
}

export function wallNow(env: Env): number {
  return env.wallNow ? env.wallNow() : env.now();
}

/** Sleeps until t, or until the deadline if that comes first; false when the deadline has come. */
export async function sleepUntil(ctx: Ctx, t: number): Promise<boolean> {
  const until = Math.min(t, ctx.deadline);
  for (;;) {
    const left = until - ctx.env.now();
    if (left <= 0) break;
    await ctx.env.sleep(left);
  }
  return ctx.env.now() < ctx.deadline;
}

/**
 * The one place Retry-After is enforced, for IMDS and ARM alike: a caller that wants to send
 * at `wantedAt` may send no earlier than the last answer's Retry-After allows. Jitter only
 * ever comes on top of it (see retryAfterWithJitterMs), never before.
 */
export function sendAt(ctx: Ctx, service: Service, wantedAt: number): number {
  return Math.max(wantedAt, ctx.notBefore[service]);
}

/** An answer, and the Retry-After it carried (ms, when it had one). */
export interface Sent {
  res: HttpResult;
  retryAfterMs?: number;
}

/**
 * One GET (a POST when there is a body) whose own timeout never runs past the deadline;
 * undefined when the deadline has come. Every answer's Retry-After (any status) is recorded
 * here for sendAt.
 */
export async function send(
  ctx: Ctx,
  service: Service,
  url: string,
  headers: Record<string, string>,
  limitMs: number,
  body?: string,
): Promise<Sent | undefined> {
  const left = ctx.deadline - ctx.env.now();
  if (left <= 0) return undefined;
  const res = await ctx.env.request({
    method: body === undefined ? "GET" : "POST",
    url,
    headers,
    body,
    timeoutMs: Math.max(1, Math.min(limitMs, Math.ceil(left))),
  });
  const ra = res.kind === "response" ? retryAfterMs(res.headers, wallNow(ctx.env)) : undefined;
  if (ra !== undefined) {
    const until = ctx.env.now() + retryAfterWithJitterMs(ra, ctx.env.random());
    ctx.notBefore[service] = Math.max(ctx.notBefore[service], until);
  }
  return { res, retryAfterMs: ra };
}

export function snippet(body: string, max = 80): string {
  const flat = body.replace(/\s+/g, " ").trim();
  if (!flat) return "empty";
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}...` : flat);
}

/** ARM's error.code (and message), or IMDS's error (+ error_description), when the body has one. */
function errorOf(body: string): { code: string; message?: string } | undefined {
  try {
    const j = JSON.parse(body);
    if (j && j.error && typeof j.error.code === "string") return { code: j.error.code, message: j.error.message };
    if (j && typeof j.error === "string") {
      return { code: typeof j.error_description === "string" ? `${j.error}: ${j.error_description}` : j.error };
    }
  } catch (e) {
    return undefined;
  }
  return undefined;
}

/** "ARM 403 AuthorizationFailed", "IMDS unreachable (ECONNREFUSED)"; with `detail`, the error's message too. */
export function describe(service: Service, res: HttpResult, detail = false): string {
  const name = service === "arm" ? "ARM" : "IMDS";
  if (res.kind === "error") return `${name} unreachable (${res.code})`;
  const err = errorOf(res.body);
  const code = err ? ` ${err.code}` : "";
  const message = detail && err && typeof err.message === "string" ? ` ${snippet(err.message, 200)}` : "";
  return `${name} ${res.status}${code}${message}`;
}
