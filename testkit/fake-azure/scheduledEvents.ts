/**
 * The fake's Scheduled Events service (IMDS /metadata/scheduledevents), in the wire format of
 * https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events: the documents are
 * shaped like the doc's own examples (fixtures/scheduled-events__*.json, see fixtures/SOURCES.md).
 *
 *   const id = fake.scheduledEvents.schedule("Preempt", { noticeMs: 30_000 });        // this VM, 30 s
 *   fake.scheduledEvents.schedule("Terminate", { resources: ["workers-vmss_7"], noticeMs: 300_000 });
 *   fake.scheduledEvents.acks;          // every POST: [{ at, eventIds, status }]
 *   fake.scheduledEvents.remove(id);    // cancelled (or finished): it leaves the document
 *
 * What the platform does on its own, modelled here: an event reaches Started (NotBefore "") when
 * it is acknowledged by a valid POST or when its NotBefore passes; every change of the events
 * bumps DocumentIncarnation. The first GET enables the service and is answered only after
 * `enableDelayMs` ("a delayed response in your first call of up to two minutes"); every GET
 * before that moment is answered at it.
 */
import type { FakeAnswer } from "./types";
import { jsonAnswer } from "./wire";

export type EventType = "Freeze" | "Reboot" | "Redeploy" | "Preempt" | "Terminate";

/** The doc's table of Scheduled Events versions ("Versions are mandatory"); anything else is a bad request here. */
export const SCHEDULED_EVENTS_VERSIONS = [
  "2020-07-01",
  "2019-08-01",
  "2019-04-01",
  "2019-01-01",
  "2017-11-01",
  "2017-08-01",
  "2017-03-01",
];

/** "Each event is scheduled a minimum amount of time in the future based on the event type" (the doc's table). */
export const MINIMUM_NOTICE_MS: Record<EventType, number> = {
  Freeze: 15 * 60_000,
  Reboot: 15 * 60_000,
  Redeploy: 10 * 60_000,
  Preempt: 30_000,
  // "User Configurable: 5 to 15 minutes"; 5 min is the notBeforeTimeout default (PT5M).
  Terminate: 5 * 60_000,
};

/** Descriptions the doc and the Azure-Samples mock server show per type ("" for Preempt, as in the Spot doc's example). */
const DESCRIPTIONS: Record<string, string> = {
  Freeze: "Virtual machine is being paused because of a memory-preserving Live Migration operation.",
  Reboot: "Host server is undergoing maintenance.",
  Redeploy: "Virtual machine has encountered a failure.",
  Preempt: "",
  Terminate: "",
};

export interface ScheduleOptions {
  /** Who it concerns; default this VM (IMDS compute/name). */
  resources?: string[];
  /** NotBefore = now + noticeMs, in RFC 1123 as the doc shows it; default the type's minimum notice. */
  noticeMs?: number;
  /** NotBefore exactly as given ("" for an event that starts at once, an ISO 8601 form...); wins over noticeMs. */
  notBefore?: string;
  /** Default "Scheduled"; "Started" is how a hardware failure is announced. */
  status?: "Scheduled" | "Started";
  /** Default "Platform". */
  source?: "Platform" | "User";
  description?: string;
  /** Default -1 ("unknown or not applicable"); null leaves the field out, as api-versions before 2020-07-01 do. */
  durationInSeconds?: number | null;
  /** Default a fresh upper-case GUID, as real events have. */
  eventId?: string;
  /** Any string, to serve a type this agent does not know. */
  type?: string;
}

/** One event as the fake holds it; `notBeforeMs` is the fake's clock for the NotBefore it serves. */
interface HeldEvent {
  EventId: string;
  EventStatus: string;
  EventType: string;
  ResourceType: "VirtualMachine";
  Resources: string[];
  NotBefore: string;
  Description: string;
  EventSource: string;
  DurationInSeconds?: number;
  notBeforeMs?: number;
}

export interface FakeAck {
  /** The fake's clock when the POST arrived. */
  at: number;
  eventIds: string[];
  status: number;
}

function guid(): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`.toUpperCase();
}

function answer(status: number, body: unknown, delayMs?: number): FakeAnswer {
  const a: FakeAnswer = { kind: "respond", ...jsonAnswer(status, body) };
  if (delayMs) a.delayMs = delayMs;
  return a;
}

export class FakeScheduledEvents {
  /** Every acknowledgement POST, valid or not. */
  readonly acks: FakeAck[] = [];
  /** The doc's examples start at 1 with no events. */
  incarnation = 1;
  /** How long the first GET takes (the service is being enabled). Default 0. */
  enableDelayMs = 0;
  /** When the service was (or will be) enabled: the first GET's time + enableDelayMs. */
  enabledAt?: number;
  private readonly events: HeldEvent[] = [];
  private readonly scheduledNotBefore = new Map<string, number>();

  constructor(
    private readonly clock: () => number,
    /** This VM's name as Resources spells it (IMDS compute/name). */
    readonly vmName: string,
  ) {}

  /** Adds an event and bumps the incarnation; returns its EventId. */
  schedule(type: EventType | string, opts: ScheduleOptions = {}): string {
    const now = this.clock();
    const notice = opts.noticeMs ?? MINIMUM_NOTICE_MS[type as EventType] ?? MINIMUM_NOTICE_MS.Reboot;
    const status = opts.status ?? "Scheduled";
    const notBefore = opts.notBefore ?? (status === "Started" ? "" : new Date(now + notice).toUTCString());
    const event: HeldEvent = {
      EventId: opts.eventId ?? guid(),
      EventStatus: status,
      EventType: type,
      ResourceType: "VirtualMachine",
      Resources: opts.resources ?? [this.vmName],
      NotBefore: notBefore,
      Description: opts.description ?? DESCRIPTIONS[type] ?? "",
      EventSource: opts.source ?? "Platform",
      notBeforeMs: notBefore === "" ? undefined : Date.parse(notBefore),
    };
    const duration = opts.durationInSeconds === undefined ? -1 : opts.durationInSeconds;
    if (duration !== null) event.DurationInSeconds = duration;
    this.events.push(event);
    if (event.notBeforeMs !== undefined) this.scheduledNotBefore.set(event.EventId, event.notBeforeMs);
    this.incarnation++;
    return event.EventId;
  }

  /** The event moves to Started (NotBefore ""), as after an approval or at NotBefore. */
  start(eventId: string): void {
    const e = this.find(eventId);
    if (!e || e.EventStatus === "Started") return;
    e.EventStatus = "Started";
    e.NotBefore = "";
    e.notBeforeMs = undefined;
    this.incarnation++;
  }

  /** The event leaves the document: finished, or cancelled before it started. */
  remove(eventId: string): void {
    const i = this.events.findIndex((e) => e.EventId === eventId);
    if (i < 0) return;
    this.events.splice(i, 1);
    this.incarnation++;
  }

  /** As after the service was disabled for 24 h: the incarnation starts over (ClusterLabs azure-events-az). */
  resetIncarnation(to = 1): void {
    this.incarnation = to;
  }

  /** When the (single) POST that acknowledged eventId arrived, if one did. */
  ackedAt(eventId: string): number | undefined {
    const ack = this.acks.find((a) => a.status === 200 && a.eventIds.indexOf(eventId) >= 0);
    return ack?.at;
  }

  /** The NotBefore the event was scheduled with (as served: whole seconds), on the fake's clock. */
  notBeforeOf(eventId: string): number | undefined {
    return this.scheduledNotBefore.get(eventId);
  }

  /** The document as IMDS would serve it now. */
  document(): { DocumentIncarnation: number; Events: Array<Omit<HeldEvent, "notBeforeMs">> } {
    this.startDue();
    return {
      DocumentIncarnation: this.incarnation,
      Events: this.events.map(({ notBeforeMs: _n, ...wire }) => ({ ...wire, Resources: [...wire.Resources] })),
    };
  }

  /** One request on /metadata/scheduledevents (headers and api-version already checked by the fake). */
  handle(method: string, body: string, apiVersion = SCHEDULED_EVENTS_VERSIONS[0]): FakeAnswer {
    const now = this.clock();
    // The instance endpoint's 400 shape; real IMDS's text for this endpoint is not documented.
    if (SCHEDULED_EVENTS_VERSIONS.indexOf(apiVersion) < 0)
      return answer(400, {
        error: "Bad request. api-version is invalid",
        "newest-versions": SCHEDULED_EVENTS_VERSIONS.slice(0, 3),
      });
    if (method === "GET") {
      if (this.enabledAt === undefined) this.enabledAt = now + this.enableDelayMs;
      const wait = Math.max(0, this.enabledAt - now);
      return answer(200, this.document(), wait);
    }
    if (method !== "POST") return answer(405, { error: "Method not allowed" });
    let ids: string[] | undefined;
    try {
      const j = JSON.parse(body);
      const requests = j && j.StartRequests;
      if (Array.isArray(requests) && requests.every((r) => r && typeof r.EventId === "string"))
        ids = requests.map((r: { EventId: string }) => r.EventId);
    } catch (e) {
      ids = undefined;
    }
    // "A 400 error code indicates that the request header or payload was malformed."
    const known = ids !== undefined && ids.length > 0 && ids.every((id) => this.find(id) !== undefined);
    const status = known ? 200 : 400;
    this.acks.push({ at: now, eventIds: ids ?? [], status });
    if (!known) return answer(400, { error: "Bad request. StartRequests must list the EventIds of current events" });
    for (const id of ids!) this.start(id);
    // "The service always returns a 200 success code if it's passed a valid event ID, even if another VM already approved the event."
    return { kind: "respond", status: 200, headers: {}, body: "" };
  }

  private find(eventId: string): HeldEvent | undefined {
    return this.events.find((e) => e.EventId.toLowerCase() === eventId.toLowerCase());
  }

  /** "the event is automatically approved when the NotBefore time is reached". */
  private startDue(): void {
    const now = this.clock();
    for (const e of this.events) {
      if (e.notBeforeMs !== undefined && !isNaN(e.notBeforeMs) && e.notBeforeMs <= now) this.start(e.EventId);
    }
  }
}

/**
 * The HTTP control of the fake's Scheduled Events, for shells and other processes:
 *   POST /_fake/scheduled-events {"type":"Preempt","resources":["workers-vmss_0"],"noticeSeconds":30}  → {"eventId"}
 *        (any ScheduleOptions field too: notBefore, status, source, description, durationInSeconds, eventId)
 *   POST /_fake/scheduled-events/start   EVENT_ID      the event moves to Started
 *   POST /_fake/scheduled-events/remove  EVENT_ID      it leaves the document (cancelled or done)
 *   POST /_fake/scheduled-events/enable-delay  MS      how long the first GET takes
 *   GET  /_fake/scheduled-events                       {"document", "acks", "notBefore": {EventId: epoch ms}}
 */
export function scheduledEventsControl(
  events: FakeScheduledEvents,
  method: string,
  pathname: string,
  text: string,
): FakeAnswer | undefined {
  if (method === "GET" && pathname === "/_fake/scheduled-events") {
    const notBefore: Record<string, number | undefined> = {};
    for (const e of events.document().Events) notBefore[e.EventId] = events.notBeforeOf(e.EventId);
    return answer(200, { document: events.document(), acks: events.acks, notBefore });
  }
  if (method !== "POST") return undefined;
  switch (pathname) {
    case "/_fake/scheduled-events": {
      let spec: ScheduleOptions & { type?: string; noticeSeconds?: number };
      try {
        spec = JSON.parse(text);
      } catch (e) {
        return answer(400, { error: 'body must be JSON: {"type":"Preempt","noticeSeconds":30,...}' });
      }
      if (!spec || typeof spec.type !== "string") return answer(400, { error: "type is required, e.g. Preempt" });
      const { type, noticeSeconds, ...opts } = spec;
      if (noticeSeconds !== undefined) opts.noticeMs = noticeSeconds * 1000;
      return answer(200, { eventId: events.schedule(type, opts) });
    }
    case "/_fake/scheduled-events/start":
      events.start(text);
      return answer(200, { ok: true });
    case "/_fake/scheduled-events/remove":
      events.remove(text);
      return answer(200, { ok: true });
    case "/_fake/scheduled-events/enable-delay":
      events.enableDelayMs = Number(text);
      return answer(200, { ok: true });
    default:
      return undefined;
  }
}
