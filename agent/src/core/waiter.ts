/**
 * The waiter's state machine: IMDS resourceId and azEnvironment, a managed-identity token,
 * then ARM reads of the VM (and, with --overprovisioned, of its scale set) until a final
 * state. Pure: time, randomness, HTTP and logging all come through Env.
 */
import {
  ARM_API_VERSION,
  ARM_REQUEST_TIMEOUT_MS,
  CLOUDS,
  IMDS_INSTANCE_API_VERSION,
  IMDS_REQUEST_TIMEOUT_MS,
  IMDS_TOKEN_API_VERSION,
  TOKEN_FALLBACK_LIFETIME_MS,
  TOKEN_REFRESH_MARGIN_MS,
} from "./constants";
import { exitCodeFor } from "./exitCodes";
import { armPoll, imdsDelayMs } from "./pollPolicy";
import type { ArmReason, ArmTarget, Pace } from "./pollPolicy";
import { parseVmId } from "./resourceId";
import type { VmId } from "./resourceId";
import { retryAfterMs } from "./retryAfter";
import type { Env, HttpResult, Outcome, WaiterOptions } from "./types";

interface Token {
  value: string;
  refreshAt: number;
  expiresAt: number;
}

interface Ctx {
  env: Env;
  start: number;
  deadline: number;
  imdsUrl: string;
  imdsNotBefore: number;
  token?: Token;
  /** Every token seen, so that no log line can carry one. */
  secrets: string[];
  /** The last thing learnt, for the timeout message. */
  last: string;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function log(ctx: Ctx, line: string): void {
  let out = line.replace(/[\r\n]+/g, " ");
  for (const secret of ctx.secrets) out = out.split(secret).join("[token]");
  ctx.env.log(out);
}

function wallNow(env: Env): number {
  return env.wallNow ? env.wallNow() : env.now();
}

/** Sleeps until t, or until the deadline if that comes first; false when the deadline has come. */
async function waitUntil(ctx: Ctx, t: number): Promise<boolean> {
  const until = Math.min(t, ctx.deadline);
  for (;;) {
    const left = until - ctx.env.now();
    if (left <= 0) break;
    await ctx.env.sleep(left);
  }
  return ctx.env.now() < ctx.deadline;
}

/** One GET whose own timeout never runs past the deadline; undefined when the deadline has come. */
async function send(
  ctx: Ctx,
  url: string,
  headers: Record<string, string>,
  limitMs: number,
): Promise<HttpResult | undefined> {
  const left = ctx.deadline - ctx.env.now();
  if (left <= 0) return undefined;
  return ctx.env.request({ method: "GET", url, headers, timeoutMs: Math.max(1, Math.min(limitMs, Math.ceil(left))) });
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  if (!flat) return "empty";
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 80)}...` : flat);
}

/** ARM's error.code, or IMDS's error (+ error_description), when the body has one. */
function errorCode(body: string): string | undefined {
  try {
    const j = JSON.parse(body);
    if (j && j.error && typeof j.error.code === "string") return j.error.code;
    if (j && typeof j.error === "string") {
      return typeof j.error_description === "string" ? `${j.error}: ${j.error_description}` : j.error;
    }
  } catch (e) {
    return undefined;
  }
  return undefined;
}

function describe(service: string, res: HttpResult): string {
  if (res.kind === "error") return `${service} unreachable (${res.code})`;
  const code = errorCode(res.body);
  return `${service} ${res.status}${code ? ` ${code}` : ""}`;
}

/** What the IMDS doc says a status means (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#errors-and-debugging). */
function imdsHint(res: HttpResult): string {
  if (res.kind === "error") return " (not up yet?)";
  const s = res.status;
  if (s === 400 && /identity not found/i.test(res.body)) return " (no managed identity attached yet)";
  if (s === 404) return " (IMDS is updating, or the identity is not ready)";
  if (s === 410) return " (IMDS is updating; this can last up to 70 s)";
  if (s === 429) return " (IMDS throttled)";
  if (s >= 500) return " (transient)";
  return "";
}

/**
 * GETs an IMDS path until parse() accepts a 200 body. Every failure is retried with the IMDS
 * backoff; `fallback` (the token still valid) ends the loop after the first failure.
 */
async function imdsGet<T>(
  ctx: Ctx,
  label: string,
  path: string,
  parse: (body: string) => T | undefined,
  fallback?: () => T | undefined,
): Promise<T | undefined> {
  let attempt = 0;
  for (;;) {
    if (!(await waitUntil(ctx, ctx.imdsNotBefore))) return undefined;
    const res = await send(ctx, ctx.imdsUrl + path, { Metadata: "true" }, IMDS_REQUEST_TIMEOUT_MS);
    if (!res) return undefined;
    let problem: string;
    let ra: number | undefined;
    if (res.kind === "response") {
      ra = retryAfterMs(res.headers, wallNow(ctx.env));
      if (res.status === 200) {
        const value = parse(res.body);
        if (value !== undefined) {
          if (attempt > 0) log(ctx, `IMDS ${label}: answered after ${attempt} failed attempt(s)`);
          return value;
        }
        problem = `IMDS ${label}: 200 with an unusable body (${snippet(res.body)})`;
      } else {
        problem = `${describe("IMDS", res)} for ${label}${imdsHint(res)}`;
      }
    } else {
      problem = `IMDS unreachable for ${label} (${res.code})${imdsHint(res)}`;
    }
    attempt++;
    const delay = imdsDelayMs({ attempt, retryAfterMs: ra, random: ctx.env.random() });
    ctx.imdsNotBefore = ctx.env.now() + delay;
    ctx.last = `last: ${problem}`;
    const kept = fallback ? fallback() : undefined;
    if (kept !== undefined) {
      log(ctx, `${problem}; the current token is still valid, so polling goes on; next try in ${secs(delay)}`);
      return kept;
    }
    log(ctx, `${problem}; retrying in ${secs(delay)}`);
  }
}

function parseAzEnvironment(body: string): string | undefined {
  const v = body.trim();
  return /^[A-Za-z][A-Za-z0-9]*$/.test(v) ? v : undefined;
}

/** The token response's numbers are strings ("expires_in": "3599"). */
function parseToken(body: string, now: number, wall: number): Token | undefined {
  let j: any;
  try {
    j = JSON.parse(body);
  } catch (e) {
    return undefined;
  }
  if (!j || typeof j.access_token !== "string" || !j.access_token) return undefined;
  let lifetime = Number(j.expires_in) * 1000;
  if (!(lifetime > 0)) {
    const untilExpiry = Number(j.expires_on) * 1000 - wall;
    lifetime = untilExpiry > 0 ? untilExpiry : TOKEN_FALLBACK_LIFETIME_MS;
  }
  const margin = Math.min(TOKEN_REFRESH_MARGIN_MS, lifetime / 2);
  return { value: j.access_token, expiresAt: now + lifetime, refreshAt: now + lifetime - margin };
}

/** The cached token, refreshed shortly before it expires; undefined when the deadline came first. */
async function getToken(ctx: Ctx, resource: string): Promise<string | undefined> {
  const { env } = ctx;
  const held = ctx.token;
  if (held && env.now() < held.refreshAt) return held.value;
  const stillValid = () => (held && env.now() < held.expiresAt ? held : undefined);
  // A refresh that failed a moment ago must not hold up ARM reads while the old token works.
  if (stillValid() && env.now() < ctx.imdsNotBefore) return held!.value;
  const token = await imdsGet(
    ctx,
    "identity token",
    `/metadata/identity/oauth2/token?api-version=${IMDS_TOKEN_API_VERSION}&resource=${resource}`,
    (body) => parseToken(body, env.now(), wallNow(env)),
    stillValid,
  );
  if (!token) return undefined;
  if (token !== held) {
    ctx.token = token;
    ctx.secrets.push(token.value);
    log(ctx, `got a managed identity token for ${resource}; will refresh it in ${secs(token.refreshAt - env.now())}`);
  }
  return token.value;
}

function readProvisioningState(body: string): string | undefined {
  try {
    const j = JSON.parse(body);
    const state = j && j.properties && j.properties.provisioningState;
    return typeof state === "string" && state ? state : undefined;
  } catch (e) {
    return undefined;
  }
}

function armHint(res: HttpResult, ra: number | undefined): string {
  if (res.kind === "error") return res.code === "ETIMEDOUT" ? " (no answer in time)" : " (connection failed)";
  const s = res.status;
  if (s === 403) {
    return /AuthorizationFailed/i.test(res.body)
      ? " (RBAC not propagated yet: the role assignment can take up to 10 min to apply)"
      : " (forbidden: the role assignment may not have propagated yet)";
  }
  if (s === 429) return ra !== undefined ? ` (throttled; Retry-After ${secs(ra)})` : " (throttled)";
  if (s === 401) return " (token still rejected after a refresh)";
  if (s >= 500) return ra !== undefined ? ` (transient; Retry-After ${secs(ra)})` : " (transient)";
  return "";
}

function finish(ctx: Ctx, outcome: Outcome, line: string): Outcome {
  log(ctx, `${line}; exit ${exitCodeFor(outcome)} (${outcome.kind})`);
  return outcome;
}

async function pollArm(
  ctx: Ctx,
  vm: VmId,
  armBase: string,
  resource: string,
  overprovisioned: boolean,
): Promise<Outcome> {
  const { env } = ctx;
  const url = (id: string) => `${armBase}${encodeURI(id)}?api-version=${ARM_API_VERSION}`;
  let phase: "vm" | "scaleSet" | "confirm" = "vm";
  const reads: Record<ArmTarget, number> = { vm: 0, scaleSet: 0 };
  const seen: Partial<Record<ArmTarget, string>> = {};
  let faults = 0;
  let retried401 = false;
  let notBefore = env.now();
  let nextAt = env.now();
  let firstReadAt: number | undefined;
  // The poll policy's own memory (its pacing period), carried from one answer to the next.
  let pace: Pace | undefined;
  const timedOut = () => timeout(ctx);
  for (;;) {
    if (!(await waitUntil(ctx, Math.max(nextAt, notBefore)))) return timedOut();
    const token = await getToken(ctx, resource);
    if (token === undefined) return timedOut();
    const target: ArmTarget = phase === "scaleSet" && vm.kind === "uniform" ? "scaleSet" : "vm";
    const noun = target === "vm" ? "VM" : "scale set";
    const id = target === "scaleSet" && vm.kind === "uniform" ? vm.scaleSetId : vm.id;
    const res = await send(
      ctx,
      url(id),
      { Authorization: `Bearer ${token}`, Accept: "application/json" },
      ARM_REQUEST_TIMEOUT_MS,
    );
    if (!res) return timedOut();
    const now = env.now();
    if (firstReadAt === undefined) firstReadAt = now;
    const headers = res.kind === "response" ? res.headers : {};
    const ra = res.kind === "response" ? retryAfterMs(headers, wallNow(env)) : undefined;
    if (ra !== undefined) notBefore = Math.max(notBefore, now + ra);
    const elapsedMs = now - firstReadAt;
    const policy = (reason: ArmReason, attempt: number): number => {
      const next = armPoll({
        target,
        reason,
        attempt,
        elapsedMs,
        headers,
        retryAfterMs: ra,
        random: env.random(),
        pace,
      });
      pace = next.pace;
      return next.delayMs;
    };

    if (res.kind === "response" && res.status === 200) {
      faults = 0;
      retried401 = false;
      reads[target]++;
      const state = readProvisioningState(res.body);
      const label = state || "unreadable";
      const s = label.toLowerCase();
      const changed = seen[target] !== label;
      seen[target] = label;
      ctx.last = `last ${noun} provisioningState ${label}`;
      const at = secs(now - ctx.start);
      if (target === "vm") {
        if (s === "succeeded") {
          if (phase === "confirm") {
            return finish(
              ctx,
              { kind: "succeeded" },
              `VM still Succeeded after the scale-out (at ${at}): it survived the cull`,
            );
          }
          if (!overprovisioned) return finish(ctx, { kind: "succeeded" }, `VM provisioningState ${label} at ${at}`);
          if (vm.kind === "flexible") {
            return finish(
              ctx,
              { kind: "succeeded" },
              `VM provisioningState ${label} at ${at}; --overprovisioned: scale-set check skipped, because ${vm.id} has no ` +
                "scale-set parent in its id (Flexible orchestration or a standalone VM) and only Uniform scale sets overprovision",
            );
          }
          const wait = policy("switch", reads[target]);
          log(
            ctx,
            `VM provisioningState ${label} at ${at}; --overprovisioned: reading the scale set until its scale-out is over (it may still delete this VM); first read in ${secs(Math.max(wait, notBefore - now))}`,
          );
          phase = "scaleSet";
          nextAt = now + wait;
          continue;
        }
        if (s === "deleting")
          return finish(
            ctx,
            { kind: "gone", reason: `VM provisioningState ${label}` },
            `VM provisioningState ${label} at ${at}: this VM is being deleted`,
          );
        if (s === "failed")
          return finish(
            ctx,
            { kind: "failed", reason: `VM provisioningState ${label}` },
            `VM provisioningState ${label} at ${at}`,
          );
        if (phase === "confirm") {
          log(ctx, `VM provisioningState ${label} after the scale-out; waiting for Succeeded again`);
          phase = "vm";
        }
      } else {
        if (s === "succeeded" || s === "failed") {
          // Every instance makes this extra read right after the scale-out: paced, so that the fleet stays in budget.
          const wait = policy("switch", reads[target]);
          log(
            ctx,
            `scale set provisioningState ${label} at ${at}: the scale-out is over; reading this VM once more in ${secs(Math.max(wait, notBefore - now))}`,
          );
          phase = "confirm";
          nextAt = now + wait;
          continue;
        }
        if (s === "deleting") {
          return finish(
            ctx,
            { kind: "gone", reason: `scale set provisioningState ${label}` },
            `scale set provisioningState ${label} at ${at}: the scale set is being deleted`,
          );
        }
      }
      const delay = policy("state", reads[target]);
      nextAt = now + delay;
      if (changed) {
        const why = state ? "" : ` (200 without a readable provisioningState: ${snippet(res.body)})`;
        log(
          ctx,
          `${noun} provisioningState ${label}${why} at ${at}; reading again in ${secs(Math.max(delay, notBefore - now))}`,
        );
      }
      continue;
    }

    const what = describe("ARM", res);
    if (res.kind === "response" && res.status === 404) {
      return finish(
        ctx,
        { kind: "gone", reason: `${what} for the ${noun}` },
        `${what} for the ${noun} at ${secs(now - ctx.start)}: it no longer exists`,
      );
    }
    if (res.kind === "response" && res.status === 401) {
      ctx.token = undefined;
      if (!retried401) {
        retried401 = true;
        log(ctx, `${what} (token rejected or expired); refreshing the token and retrying now`);
        nextAt = now;
        continue;
      }
    }
    faults++;
    const reason: ArmReason =
      res.kind === "response" && res.status === 429
        ? "throttled"
        : res.kind === "response" && res.status === 403
          ? "forbidden"
          : "transient";
    const delay = Math.max(policy(reason, faults), ra !== undefined ? ra : 0);
    nextAt = now + delay;
    ctx.last = `last: ${what} for the ${noun}`;
    log(ctx, `${what} for the ${noun}${armHint(res, ra)}; retrying in ${secs(delay)}`);
  }
}

function timeout(ctx: Ctx): Outcome {
  const total = secs(ctx.deadline - ctx.start);
  return finish(
    ctx,
    { kind: "timeout", reason: `no final state within ${total} (${ctx.last})` },
    `timed out after ${total} (${ctx.last})`,
  );
}

export async function runWaiter(env: Env, opts: WaiterOptions): Promise<Outcome> {
  const start = env.now();
  const ctx: Ctx = {
    env,
    start,
    deadline: start + opts.timeoutSeconds * 1000,
    imdsUrl: opts.imdsUrl,
    imdsNotBefore: start,
    secrets: [],
    last: "IMDS has not answered",
  };
  log(
    ctx,
    `waiting for this VM's provisioningState to be Succeeded (timeout ${opts.timeoutSeconds} s${opts.overprovisioned ? ", overprovisioned scale set" : ""})`,
  );
  const instance = `/metadata/instance/compute/%s?api-version=${IMDS_INSTANCE_API_VERSION}&format=text`;
  const vm = await imdsGet(ctx, "compute/resourceId", instance.replace("%s", "resourceId"), parseVmId);
  if (!vm) return timeout(ctx);
  const azEnvironment = await imdsGet(
    ctx,
    "compute/azEnvironment",
    instance.replace("%s", "azEnvironment"),
    parseAzEnvironment,
  );
  if (!azEnvironment) return timeout(ctx);
  const cloud = CLOUDS[azEnvironment.toLowerCase()];
  if (!cloud && !opts.armUrl) {
    const reason = `IMDS reports azEnvironment "${azEnvironment}", whose ARM endpoint this agent does not know: pass --arm-url`;
    return finish(ctx, { kind: "usage", reason }, reason);
  }
  const armBase = (opts.armUrl || cloud.arm).replace(/\/+$/, "");
  const resource = cloud ? cloud.resource : `${armBase}/`;
  const form = vm.kind === "uniform" ? "a Uniform scale-set instance" : "a Flexible scale-set member or standalone VM";
  log(ctx, `this VM is ${vm.id}, ${form}; cloud ${azEnvironment}, ARM ${armBase}`);
  ctx.last = "ARM has not answered";
  return pollArm(ctx, vm, armBase, resource, opts.overprovisioned);
}
