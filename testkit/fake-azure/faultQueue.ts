/**
 * The faults queued per route: served in order, each for a number of requests or until a time
 * on the fake's clock, instead of the route's normal answer.
 */
import { FAKE_ROUTES } from "./types";
import type { FakeAnswer, FakeFault, FakeRoute } from "./types";

interface QueuedFault {
  fault: FakeFault;
  times: number;
  until?: number;
}

export class FaultQueue {
  private readonly queues = {} as Record<FakeRoute, QueuedFault[]>;

  constructor(private readonly clock: () => number) {
    for (const route of FAKE_ROUTES) this.queues[route] = [];
  }

  /** The next `times` requests on `route` get `fault` instead of their answer. Queued faults are served in order. */
  fail(route: FakeRoute, fault: FakeFault, times = 1): void {
    this.queues[route].push({ fault, times });
  }

  /** Every request on `route` gets `fault` for durationMs from `since` (default now). */
  failFor(route: FakeRoute, fault: FakeFault, durationMs: number, since = this.clock()): void {
    this.queues[route].push({ fault, times: Infinity, until: since + durationMs });
  }

  /** The answer of the fault due on `route` at `now` (using it up), or undefined when none is. */
  take(route: FakeRoute, now: number): FakeAnswer | undefined {
    const queue = this.queues[route];
    while (queue.length) {
      const head = queue[0];
      if (head.until !== undefined && now >= head.until) {
        queue.shift();
        continue;
      }
      if (--head.times <= 0) queue.shift();
      const f = head.fault;
      if ("hang" in f) return { kind: "hang" };
      if ("reset" in f) return { kind: "reset" };
      if ("refuse" in f) return { kind: "refuse" };
      return { kind: "respond", status: f.status, headers: { ...(f.headers || {}) }, body: f.body ?? "" };
    }
    return undefined;
  }
}
