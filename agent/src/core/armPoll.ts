/**
 * ARM reads of this VM until a final state, as small steps over one state record (`Poll`):
 * wait for the next read (watching the kept file meanwhile), read, then act on the answer as
 * retryTable.ts classifies it. The waits come from pollPolicy.ts; a Retry-After is enforced by
 * the gate in context.ts; this file decides only what an answer means.
 */
import { ARM_API_VERSION, ARM_REQUEST_TIMEOUT_MS } from "./constants";
import { at, describe, finish, log, secs, send, sendAt, sleepUntil, snippet, timeout } from "./context";
import type { Ctx, Sent, Step } from "./context";
import { KEPT_FILE_POLL_MS, lookAtKeptFile } from "./keptFile";
import type { KeptProof } from "./keptFile";
import { afterProof, armPoll } from "./pollPolicy";
import type { ArmReason, Pace } from "./pollPolicy";
import { classify } from "./retryTable";
import type { RetryRule } from "./retryTable";
import { getToken } from "./token";
import type { Outcome } from "./types";

export interface ArmTarget {
  /** The VM's ARM id, from IMDS compute/resourceId. */
  vmId: string;
  armBase: string;
  /** The token resource (audience). */
  resource: string;
  /** With --kept-file: the proof the VM must also hold before Succeeded may start the worker. */
  kept?: KeptProof;
}

/** The whole state of the poll, in one record. */
interface Poll {
  target: ArmTarget;
  /** When the next read may go (before the Retry-After gate). */
  nextReadAt: number;
  /** The first read's time: the policy measures elapsed time from it. */
  firstReadAt?: number;
  /** 200 answers outside the kept-file wait: the fast phase's count. */
  reads: number;
  /** Consecutive failed reads. */
  faults: number;
  /** A 401 got a fresh token since the last 200; a second one is then a plain fault. */
  reauthenticated: boolean;
  /** The last provisioningState read (or "unreadable"), so each change is logged once. */
  seen?: string;
  /** The last 200 said Succeeded (with --kept-file, while the proof is missing). */
  succeeded: boolean;
  /** The poll policy's memory, carried from one answer to the next. */
  pace?: Pace;
}

type Woke = "due" | "proven" | "deadline";

function awaitingProof(p: Poll): boolean {
  return !!p.target.kept && !p.target.kept.held;
}

/** Sleeps until the next read is due; while the kept file is missing, looks at it every KEPT_FILE_POLL_MS. */
async function waitForRead(ctx: Ctx, p: Poll): Promise<Woke> {
  for (;;) {
    const due = sendAt(ctx, "arm", p.nextReadAt);
    const watch = awaitingProof(p);
    const wake = watch ? Math.min(due, ctx.env.now() + KEPT_FILE_POLL_MS) : due;
    if (!(await sleepUntil(ctx, wake))) return "deadline";
    if (watch && (await lookAtKeptFile(ctx, p.target.kept!))) {
      if (p.succeeded) return "proven";
      const next = afterProof(p.pace);
      p.pace = next.pace;
      if (next.readNow) p.nextReadAt = ctx.env.now();
      const when = next.readNow ? "at once" : "at the next paced read (the fleet is busy)";
      log(ctx, `the kept file came before ARM's Succeeded: the extension runs, so reading ARM ${when}, then fast`);
    }
    if (ctx.env.now() >= sendAt(ctx, "arm", p.nextReadAt)) return "due";
  }
}

/** One GET of the VM with a (cached) token. */
async function readVm(ctx: Ctx, p: Poll): Promise<Step<Sent>> {
  const token = await getToken(ctx, p.target.resource);
  if ("end" in token) return token;
  const url = `${p.target.armBase}${encodeURI(p.target.vmId)}?api-version=${ARM_API_VERSION}`;
  const headers = { Authorization: `Bearer ${token.value}`, Accept: "application/json" };
  const sent = await send(ctx, "arm", url, headers, ARM_REQUEST_TIMEOUT_MS);
  if (!sent) return timeout(ctx);
  if (p.firstReadAt === undefined) p.firstReadAt = ctx.env.now();
  return { value: sent };
}

/** Asks the poll policy for the next wait, keeps its pace, and schedules the read. Returns the wait as logged. */
function schedule(ctx: Ctx, p: Poll, sent: Sent, reason: ArmReason, attempt: number): string {
  const now = ctx.env.now();
  const headers = sent.res.kind === "response" ? sent.res.headers : {};
  const next = armPoll({
    reason,
    attempt,
    awaitingProof: awaitingProof(p),
    elapsedMs: now - p.firstReadAt!,
    headers,
    retryAfter: sent.retryAfterMs !== undefined,
    random: ctx.env.random(),
    pace: p.pace,
  });
  p.pace = next.pace;
  p.nextReadAt = now + next.delayMs;
  return secs(sendAt(ctx, "arm", p.nextReadAt) - now);
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

function proven(ctx: Ctx, p: Poll): { end: Outcome } {
  return finish(
    ctx,
    { kind: "succeeded" },
    `VM provisioningState ${p.seen} and kept file ${p.target.kept!.path} holds this VM's vmId at ${at(ctx)}`,
  );
}

/** A 200: the state decides (Succeeded, with --kept-file, only together with the proof). */
async function onAnswer(ctx: Ctx, p: Poll, sent: Sent, body: string): Promise<Outcome | undefined> {
  const state = readProvisioningState(body);
  const label = state || "unreadable";
  const changed = p.seen !== label;
  p.seen = label;
  p.faults = 0;
  p.reauthenticated = false;
  if (!awaitingProof(p)) p.reads++;
  ctx.last = `last VM provisioningState ${label}`;
  const s = label.toLowerCase();
  if (s === "deleting") {
    const reason = `VM provisioningState ${label}`;
    return finish(ctx, { kind: "gone", reason }, `${reason} at ${at(ctx)}: this VM is being deleted`).end;
  }
  if (s === "failed") {
    const reason = `VM provisioningState ${label}`;
    return finish(ctx, { kind: "failed", reason }, `${reason} at ${at(ctx)}`).end;
  }
  p.succeeded = s === "succeeded";
  const kept = p.target.kept;
  if (p.succeeded && !kept)
    return finish(ctx, { kind: "succeeded" }, `VM provisioningState ${label} at ${at(ctx)}`).end;
  // The file is read again at every Succeeded: the proof must hold now, not only at some earlier look.
  if (p.succeeded && (await lookAtKeptFile(ctx, kept!))) return proven(ctx, p).end;
  const wait = schedule(ctx, p, sent, "state", p.reads);
  if (changed) {
    const why = state ? "" : ` (200 without a readable provisioningState: ${snippet(body)})`;
    const proof = awaitingProof(p)
      ? `; no kept proof yet (${kept!.path} does not hold this VM's vmId), so reading only often enough to see Deleting`
      : "";
    log(ctx, `VM provisioningState ${label}${why} at ${at(ctx)}${proof}; reading again in ${wait}`);
  }
  return undefined;
}

/** Anything but a 200: final, a fresh token, or a retry paced by the policy, as the table says. */
function onFault(ctx: Ctx, p: Poll, sent: Sent, rule: RetryRule): Outcome | undefined {
  const res = sent.res;
  const what = `${describe("arm", res)} for the VM`;
  let reason: ArmReason;
  switch (rule.verdict) {
    case "gone":
      return finish(ctx, { kind: "gone", reason: what }, `${what} at ${at(ctx)}: ${rule.why}`).end;
    case "refused": {
      const full = `${describe("arm", res, true)} for the VM`;
      return finish(ctx, { kind: "refused", reason: full }, `${full} at ${at(ctx)}: refused, because ${rule.why}`).end;
    }
    case "reauthenticate":
      ctx.token = undefined;
      if (!p.reauthenticated) {
        p.reauthenticated = true;
        p.nextReadAt = ctx.env.now();
        log(ctx, `${what} (${rule.why}); refreshing the token and retrying now`);
        return undefined;
      }
      reason = "transient";
      break;
    case "forbidden":
    case "throttled":
    case "transient":
      reason = rule.verdict;
      break;
    case "answer":
      reason = "transient";
      break;
    default: {
      const never: never = rule.verdict;
      throw new Error(`unknown verdict ${never}`);
    }
  }
  p.faults++;
  const wait = schedule(ctx, p, sent, reason, p.faults);
  let why = rule.verdict === "reauthenticate" ? "token still rejected after a refresh" : rule.why;
  if (sent.retryAfterMs !== undefined) why += `; Retry-After ${secs(sent.retryAfterMs)}`;
  ctx.last = `last: ${what}`;
  log(ctx, `${what} (${why}); retrying in ${wait}`);
  return undefined;
}

/** Reads the VM until a final state; with --kept-file, Succeeded ends it only together with the proof. */
export async function pollArm(ctx: Ctx, target: ArmTarget): Promise<Outcome> {
  const p: Poll = {
    target,
    nextReadAt: ctx.env.now(),
    reads: 0,
    faults: 0,
    reauthenticated: false,
    succeeded: false,
  };
  for (;;) {
    const woke = await waitForRead(ctx, p);
    if (woke === "deadline") return timeout(ctx).end;
    if (woke === "proven") return proven(ctx, p).end;
    const read = await readVm(ctx, p);
    if ("end" in read) return read.end;
    const sent = read.value;
    const rule = classify("arm", sent.res);
    const end =
      rule.verdict === "answer" && sent.res.kind === "response"
        ? await onAnswer(ctx, p, sent, sent.res.body)
        : onFault(ctx, p, sent, rule);
    if (end) return end;
  }
}
