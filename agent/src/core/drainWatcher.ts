/**
 * The drain watcher (`waiter.js drain-watcher`): polls IMDS Scheduled Events once a second, plans
 * each event once by its EventId (drainPlan.ts), drains the worker through Env.worker (SIGTERM, a
 * bounded wait, SIGKILL) and acknowledges the events it may. It runs for the life of the VM; it
 * returns only when IMDS refuses a request for good. Pure: time, HTTP and the worker come through
 * the Env, and every IMDS call goes through the waiter's one client (imds.ts, retryTable.ts).
 *
 * Drains run one at a time, between polls: while the worker drains nothing else needs doing, and
 * the watcher's longest silence towards the service is one drain (≤ MAX_DRAIN_SECONDS), far from
 * the 24 h after which the service is disabled. If the event a drain was for leaves the document
 * while the VM still runs (Azure cancelled it, or a Reboot turned out a Freeze), the worker is
 * started again: a drain stops the worker for this event, it never disables it.
 */
import {
  IMDS_REQUEST_TIMEOUT_MS,
  SCHEDULED_EVENTS_ENABLE_TIMEOUT_MS,
  SCHEDULED_EVENTS_PATH,
  SCHEDULED_EVENTS_POLL_MS,
} from "./constants";
import { describe, log, newCtx, secs, send, sendAt, sleepUntil, wallNow } from "./context";
import type { Ctx, Step } from "./context";
import { planEvent } from "./drainPlan";
import { drainingRecord } from "./healthState";
import type { EventAction } from "./drainPlan";
import { imdsGet, instancePath } from "./imds";
import { imdsDelayMs } from "./pollPolicy";
import { classify } from "./retryTable";
import { noticeLeftMs, parseEventsDocument } from "./scheduledEvents";
import type { EventsDocument, ScheduledEvent } from "./scheduledEvents";
import type { DrainEnv, DrainOptions, Outcome } from "./types";

/** How often a draining worker is checked for exit: an assumption (a systemctl call is cheap). */
export const DRAIN_CHECK_MS = 500;

interface Tracked {
  action: EventAction;
  /** The event's EventType, for the health record. */
  type: string;
  status: string;
  /** Monotonic times: when to send SIGTERM, the latest SIGKILL, NotBefore. */
  startAt: number;
  killAt: number;
  notBeforeAt: number;
  /** The drain for it has run (the worker is out). */
  drained: boolean;
}

interface Watch {
  ctx: Ctx;
  env: DrainEnv;
  me: string;
  drainMs: number;
  events: Record<string, Tracked>;
  /** The watcher stopped the worker, and whether it was running (or starting) then. */
  stopped: boolean;
  wasRunning: boolean;
}

/**
 * This VM's name as Resources spells it: IMDS compute/name, "{scale-set-name}_{instance-id}" for a
 * Uniform instance (virtual-machine-scale-sets-instance-ids), never the host name.
 */
async function whoAmI(ctx: Ctx): Promise<Step<string>> {
  const name = await imdsGet(ctx, "compute/name", instancePath("name"), (b) => b.trim() || undefined);
  if ("value" in name) log(ctx, `this VM is ${name.value}`);
  return name;
}

function describeEvent(e: ScheduledEvent, notice: number): string {
  const when = e.notBefore ? `, NotBefore ${e.notBefore} (${secs(notice)} away)` : "";
  return `event ${e.id} ${e.type} ${e.status}${e.source ? ` by ${e.source}` : ""} for [${e.resources.join(", ")}]${when}`;
}

/** POSTs the approval until IMDS takes it, refuses it, or NotBefore passes (the platform starts the event then anyway). */
async function acknowledge(w: Watch, id: string, t: Tracked): Promise<void> {
  const { ctx, env } = w;
  const body = JSON.stringify({ StartRequests: [{ EventId: id }] });
  // No Content-Type: the doc's own `curl -d` sample sends the form type, so IMDS reads the body whatever it is.
  const headers = { Metadata: "true" };
  for (let attempt = 1; ; attempt++) {
    await sleepUntil(ctx, sendAt(ctx, "imds", ctx.imdsRetryAt));
    const sent = await send(ctx, "imds", ctx.imdsUrl + SCHEDULED_EVENTS_PATH, headers, IMDS_REQUEST_TIMEOUT_MS, body);
    const rule = classify("imds", sent!.res);
    const what = `event ${id}: ${rule.verdict === "answer" ? "acknowledged" : `ack got ${describe("imds", sent!.res, true)}`}, ${secs(t.notBeforeAt - env.now())} before NotBefore`;
    if (rule.verdict === "answer" || rule.verdict === "refused" || env.now() >= t.notBeforeAt) return log(ctx, what);
    ctx.imdsRetryAt = env.now() + imdsDelayMs({ attempt, random: env.random() });
    log(ctx, `${what}; retrying in ${secs(sendAt(ctx, "imds", ctx.imdsRetryAt) - env.now())}`);
  }
}

/** SIGTERM, a wait of at most until killAt, SIGKILL; then the acknowledgement when the plan allows it. */
async function drain(w: Watch, id: string, t: Tracked): Promise<void> {
  const { ctx, env } = w;
  t.drained = true;
  if (!w.stopped) {
    w.wasRunning = await env.worker.running();
    // Before the stop: the unit's ExecStopPost= records a final stop, and the health endpoint must
    // already answer Initializing (draining), never Unhealthy (healthState.ts).
    await env.markDraining(drainingRecord(env.uptimeSeconds(), id, t.type));
    const began = env.now();
    log(ctx, `event ${id}: SIGTERM to the worker`);
    await env.worker.stop();
    w.stopped = true;
    let signal = "stopped";
    while (await env.worker.running()) {
      if (env.now() >= t.killAt) {
        await env.worker.kill();
        signal = "got SIGKILL";
        break;
      }
      await env.sleep(Math.min(DRAIN_CHECK_MS, t.killAt - env.now()));
    }
    log(ctx, `event ${id}: the worker ${signal} ${secs(env.now() - began)} after SIGTERM`);
  }
  if (t.action.kind === "drain" && t.action.ack) await acknowledge(w, id, t);
}

/** New events are planned (one log line each), changed ones noted, vanished ones dropped; then due drains run. */
async function onDocument(w: Watch, doc: EventsDocument): Promise<void> {
  const { ctx, env } = w;
  const now = env.now();
  const present: Record<string, boolean> = {};
  for (const e of doc.events) {
    present[e.id] = true;
    const known = w.events[e.id];
    if (known) {
      if (known.status !== e.status && known.action.kind === "drain") log(ctx, `event ${e.id} is now ${e.status}`);
      known.status = e.status;
      continue;
    }
    const notice = noticeLeftMs(e.notBefore, wallNow(env), doc.serverMs);
    const action = planEvent(e, w.me, w.drainMs, notice);
    const startAt = now + (action.kind === "drain" ? action.startInMs : 0);
    const killAt = startAt + (action.kind === "drain" ? action.budgetMs : 0);
    w.events[e.id] = {
      action,
      type: e.type,
      status: e.status,
      startAt,
      killAt,
      notBeforeAt: now + notice,
      drained: false,
    };
    log(ctx, `${describeEvent(e, notice)}: ${action.why}`);
  }
  for (const id of Object.keys(w.events)) {
    if (present[id]) continue;
    if (w.events[id].action.kind === "drain") log(ctx, `event ${id} is gone`);
    delete w.events[id];
  }
  // Still out while a drain for this VM has run or is due (an event may come back under a new EventId).
  const holding = (t: Tracked) => t.action.kind === "drain" && (t.drained || t.startAt <= now);
  if (w.stopped && !Object.keys(w.events).some((id) => holding(w.events[id]))) {
    w.stopped = false;
    // The drain is over; cleared before the start, so the launcher's own records take over from here.
    await env.markDraining(undefined);
    if (w.wasRunning) {
      log(ctx, "the events drained for are gone: starting the worker again");
      await env.worker.start();
    }
  }
  for (const id of Object.keys(w.events)) {
    const t = w.events[id];
    if (t.action.kind === "drain" && !t.drained && env.now() >= t.startAt) await drain(w, id, t);
  }
}

export async function runDrainWatcher(env: DrainEnv, opts: DrainOptions): Promise<Outcome> {
  const ctx = newCtx(env, opts.imdsUrl, Infinity);
  log(ctx, `draining ${opts.unit} for Scheduled Events, at most ${opts.drainSeconds} s`);
  const me = await whoAmI(ctx);
  if ("end" in me) return me.end;
  const w: Watch = {
    ctx,
    env,
    me: me.value,
    drainMs: opts.drainSeconds * 1000,
    events: {},
    stopped: false,
    wasRunning: false,
  };
  let enabled = false;
  for (;;) {
    const polledAt = env.now();
    const limit = enabled ? IMDS_REQUEST_TIMEOUT_MS : SCHEDULED_EVENTS_ENABLE_TIMEOUT_MS;
    const doc = await imdsGet(ctx, "scheduled events", SCHEDULED_EVENTS_PATH, parseEventsDocument, undefined, limit);
    if ("end" in doc) return doc.end;
    const took = env.now() - polledAt;
    if (!enabled) log(ctx, `Scheduled Events answered after ${secs(took)}`);
    enabled = true;
    // A period from the poll's start, or from its answer when retries or the enabling made it slow.
    const nextAt = (took > SCHEDULED_EVENTS_POLL_MS ? env.now() : polledAt) + SCHEDULED_EVENTS_POLL_MS;
    await onDocument(w, doc.value);
    await sleepUntil(ctx, nextAt);
  }
}
