/**
 * What the drain watcher does about one scheduled event: pure, from the event, this VM's name
 * (IMDS compute/name, the form Resources uses), the drain time and the notice left.
 *
 * | type                  | action                                              | acknowledged                  |
 * |-----------------------|-----------------------------------------------------|-------------------------------|
 * | Preempt, Terminate    | drain now: the VM is deleted                        | yes, after the drain          |
 * | Reboot, Redeploy      | drain so that it ends by NotBefore (now if the user | yes, after the drain          |
 * |                       | asked for it: they should not wait the 10-15 min)   |                               |
 * | Freeze                | nothing: a pause of seconds keeps memory and files  | no                            |
 * | a type unknown here   | as Reboot: losing a task costs more than idling     | no: its impact is unknown     |
 *
 * Another VM's event is ignored. An event is acknowledged only when every one of its Resources is
 * this VM, since an acknowledgement "allows the event to proceed for all Resources in the event"
 * (https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events): a multi-VM event
 * is drained for and left to its NotBefore. A Started event has nothing left to approve.
 */
import { secs } from "./context";
import type { ScheduledEvent } from "./scheduledEvents";
import { sameVm } from "./scheduledEvents";

/**
 * Kept between the end of a drain and NotBefore, for the SIGKILL, its reaping and the
 * acknowledgement's round trip. An assumption: systemctl and a local POST take well under 1 s.
 */
export const DRAIN_SAFETY_MARGIN_MS = 3000;

/**
 * An event that has already started (a hardware failure is announced as Reboot/Started, with no
 * notice): the impact is now, so the worker gets only this long after SIGTERM. An assumption.
 */
export const STARTED_GRACE_MS = 5000;

const KNOWN_TYPES = ["Preempt", "Terminate", "Reboot", "Redeploy", "Freeze"] as const;
type EventKind = (typeof KNOWN_TYPES)[number] | "unknown";

export type EventAction =
  /** Not this VM's, or nothing to do for it (Freeze). */
  | { kind: "none"; why: string }
  /** SIGTERM in startInMs, SIGKILL budgetMs later at the latest, then acknowledge when `ack`. */
  | { kind: "drain"; startInMs: number; budgetMs: number; ack: boolean; why: string };

export function planEvent(e: ScheduledEvent, me: string, drainMs: number, noticeMs: number): EventAction {
  if (!e.resources.some((r) => sameVm(r, me))) return { kind: "none", why: `not this VM (${me}): ignored` };
  const started = e.status === "Started" || e.notBefore === "";
  const kind: EventKind =
    KNOWN_TYPES.indexOf(e.type as (typeof KNOWN_TYPES)[number]) >= 0 ? (e.type as EventKind) : "unknown";
  const budgetMs = started
    ? Math.min(drainMs, STARTED_GRACE_MS)
    : Math.max(0, Math.min(drainMs, noticeMs - DRAIN_SAFETY_MARGIN_MS));
  const lastMoment = started ? 0 : Math.max(0, noticeMs - DRAIN_SAFETY_MARGIN_MS - drainMs);
  const noAck =
    kind === "unknown"
      ? "its impact is unknown"
      : started
        ? "it has started"
        : e.resources.every((r) => sameVm(r, me))
          ? ""
          : "it names other VMs too";
  const drain = (startInMs: number, why: string): EventAction => ({
    kind: "drain",
    startInMs,
    budgetMs,
    ack: !noAck,
    why: `${why}: drain ${startInMs > 0 ? `in ${secs(startInMs)}` : "now"}, SIGKILL after ${secs(budgetMs)} at most, ${noAck ? `no ack: ${noAck}` : "then ack"}`,
  });
  switch (kind) {
    case "Preempt":
    case "Terminate":
      return drain(0, "this VM is deleted");
    case "Reboot":
    case "Redeploy":
      // A user's restart waits for the approval or NotBefore: approve it as soon as the worker is out.
      return drain(e.source === "User" ? 0 : lastMoment, "this VM restarts, memory is lost");
    case "Freeze":
      return { kind: "none", why: "a pause keeps memory and files: nothing to do, no ack" };
    case "unknown":
      return drain(lastMoment, "unknown type");
    default: {
      const never: never = kind;
      throw new Error(`unknown event kind ${never}`);
    }
  }
}
