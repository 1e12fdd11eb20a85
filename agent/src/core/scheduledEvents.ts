/**
 * The Scheduled Events document, as IMDS serves it, and the notice an event leaves.
 * https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events
 *
 *   {"DocumentIncarnation": 2, "Events": [{"EventId": "C7061BAC-…", "EventStatus": "Scheduled",
 *    "EventType": "Freeze", "ResourceType": "VirtualMachine", "Resources": ["WestNO_0", "WestNO_1"],
 *    "NotBefore": "Mon, 11 Apr 2026 22:26:58 GMT", "Description": "…", "EventSource": "Platform",
 *    "DurationInSeconds": 5}]}
 *
 * Description, EventSource and DurationInSeconds came with later api-versions (2019-04-01,
 * 2019-08-01, 2020-07-01): they are optional here. DocumentIncarnation only says "something
 * changed" (it resets when the service was disabled): events are tracked by EventId.
 */

export interface ScheduledEvent {
  id: string;
  /** "Freeze" | "Reboot" | "Redeploy" | "Preempt" | "Terminate", or a type this agent does not know. */
  type: string;
  /** "Scheduled" | "Started". */
  status: string;
  resources: string[];
  /** RFC 1123 ("Mon, 19 Sep 2016 18:29:47 GMT"); "" once the event has started. */
  notBefore: string;
  /** "Platform" | "User", when the api-version has it. */
  source?: string;
}

export interface EventsDocument {
  incarnation: number;
  events: ScheduledEvent[];
  /** The answer's Date header (epoch ms), when it had one: a second opinion on the time. */
  serverMs?: number;
}

const isString = (v: unknown): v is string => typeof v === "string";

/** The wire shape before it is checked: every field may be missing or of another type. */
interface RawEvent {
  EventId?: unknown;
  EventType?: unknown;
  EventStatus?: unknown;
  Resources?: unknown;
  NotBefore?: unknown;
  EventSource?: unknown;
}
interface RawDocument {
  DocumentIncarnation?: unknown;
  Events?: unknown;
}

/** The document, or undefined when the body is not one (the IMDS client then retries). */
export function parseEventsDocument(body: string, headers: Record<string, string> = {}): EventsDocument | undefined {
  let j: RawDocument | null;
  try {
    j = JSON.parse(body) as RawDocument | null;
  } catch (e) {
    return undefined;
  }
  if (!j || !Array.isArray(j.Events)) return undefined;
  const events: ScheduledEvent[] = [];
  for (const e of j.Events as (RawEvent | null)[]) {
    if (!e || !isString(e.EventId) || !isString(e.EventType) || !Array.isArray(e.Resources)) return undefined;
    events.push({
      id: e.EventId,
      type: e.EventType,
      status: isString(e.EventStatus) ? e.EventStatus : "",
      resources: (e.Resources as unknown[]).filter(isString),
      notBefore: isString(e.NotBefore) ? e.NotBefore : "",
      source: isString(e.EventSource) ? e.EventSource : undefined,
    });
  }
  const date = headers["date"] === undefined ? NaN : Date.parse(headers["date"]);
  return { incarnation: Number(j.DocumentIncarnation), events, serverMs: isNaN(date) ? undefined : date };
}

/**
 * Milliseconds until NotBefore: 0 once started ("" NotBefore) or unreadable. Date.parse reads the
 * RFC 1123 form and ignores its weekday (the doc's own example has a wrong one); an ISO 8601 value
 * (as the Azure-Samples mock server sends) reads too. When the answer carried a Date header the
 * smaller of the two readings wins, so a VM clock running late never lengthens a drain.
 */
export function noticeLeftMs(notBefore: string, wallNowMs: number, serverMs?: number): number {
  const at = Date.parse(notBefore);
  if (isNaN(at)) return 0;
  const local = at - wallNowMs;
  return Math.max(0, serverMs === undefined ? local : Math.min(local, at - serverMs));
}

/** Resource names are case-insensitive in Azure, so "Workers_3" in an event is this VM "workers_3". */
export function sameVm(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
