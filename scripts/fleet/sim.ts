/**
 * Virtual time for the fleet simulation: a seeded RNG, a token bucket and a discrete-event
 * loop. Thousands of waiters run as ordinary async code; their sleeps and requests resolve
 * from a priority queue of timers, so an hour of scale-out takes seconds of real time.
 */

/** Seeded PRNG (mulberry32): the same seed gives the same fleet, run after run. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  normal(): number {
    // Box-Muller; 1 - next() keeps log() away from 0.
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Log-normal with the given median and log-space sigma: positive, right-skewed, like boot times. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  /** An independent stream, so adding a VM does not shift every other VM's draws. */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }
}

/**
 * A token bucket as Azure documents it: starts full, each call takes one token, tokens come
 * back continuously at the refill rate up to the capacity; an empty bucket refuses (429).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly capacity: number,
    /** Tokens per millisecond. */
    readonly refillPerMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }
  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.refillPerMs);
      this.last = now;
    }
  }
  level(now: number): number {
    this.refill(now);
    return this.tokens;
  }
  /** Whole tokens left, as the x-ms-ratelimit-remaining-* headers report them. */
  remaining(now: number): number {
    return Math.floor(this.level(now));
  }
  canTake(now: number): boolean {
    return this.level(now) >= 1;
  }
  take(now: number): boolean {
    if (!this.canTake(now)) return false;
    this.tokens -= 1;
    return true;
  }
  /** Milliseconds until one whole token is available (0 if one is). */
  msUntilToken(now: number): number {
    const level = this.level(now);
    return level >= 1 ? 0 : Math.ceil((1 - level) / this.refillPerMs);
  }
}

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

/** Binary min-heap on (at, seq): equal times fire in scheduling order, so runs are deterministic. */
export class TimerQueue {
  private heap: Timer[] = [];
  private seq = 0;
  get size(): number {
    return this.heap.length;
  }
  push(at: number, fire: () => void): void {
    const t: Timer = { at, seq: this.seq++, fire };
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  peekTime(): number | undefined {
    return this.heap.length ? this.heap[0].at : undefined;
  }
  pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * The clock's grain: every timer fires on a multiple of 10 ms, never earlier than asked. Thousands
 * of waiters then share each instant, and the loop drains the microtasks once per instant rather
 * than once per waiter; 10 ms is far below every latency the bench reports.
 */
export const TICK_MS = 10;

/** setImmediate runs only once the microtask queue is empty: every awaiting waiter has moved on. */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The virtual clock. Waiters call sleep()/at(); run() pops the earliest timer, advances the
 * clock to it, fires every timer due at that instant, then lets the woken async code run to
 * its next await before going on.
 */
export class EventLoop {
  private queue = new TimerQueue();
  private t: number;
  events = 0;
  constructor(readonly start: number) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  /** Schedules `fire` at `time`, rounded up to the next TICK_MS. */
  at(time: number, fire: () => void): void {
    this.queue.push(Math.max(Math.ceil(time / TICK_MS) * TICK_MS, this.t), fire);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.at(this.t + Math.max(0, ms), resolve));
  }
  /** Runs until done() holds, the queue is empty, or the clock passes until. */
  async run(done: () => boolean, until = Infinity): Promise<void> {
    await drainMicrotasks();
    while (!done()) {
      const next = this.queue.peekTime();
      if (next === undefined || next > until) break;
      this.t = next;
      while (this.queue.peekTime() === next) {
        this.queue.pop()!.fire();
        this.events++;
      }
      await drainMicrotasks();
    }
  }
}
