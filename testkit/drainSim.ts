/**
 * The drain watcher in virtual time: its pure core (agent/src/core/drainWatcher.ts) against a
 * FakeAzure that serves Scheduled Events, and a VirtualWorker in place of the systemd unit. The
 * watcher runs for ever, so a run stops at `untilMs` of virtual time.
 *
 *   const sim = await simulateDrainWatcher((fake, worker) => {
 *     sim.at(10_000, () => fake.scheduledEvents.schedule("Preempt", { noticeMs: 30_000 }));
 *   }, { untilMs: 60_000, drainSeconds: 25 });
 *   sim.worker.signals; sim.fake.scheduledEvents.acks; sim.logs;
 */
import { runDrainWatcher } from "../agent/src/core/drainWatcher";
import { DEFAULT_SYSTEMCTL, DEFAULT_WORKER_UNIT } from "../agent/src/core/constants";
import { HEALTH_STATE_DIR } from "../agent/src/core/healthState";
import type { DrainOptions, HttpRequest, Outcome, WorkerControl } from "../agent/src/core/types";
import { FakeAzure } from "./fake-azure";
import type { FakeAzureOptions } from "./fake-azure";
import { VirtualClock, VIRTUAL_URL, virtualEnv } from "./fake-azure/virtualEnv";

export interface WorkerSignal {
  /** Virtual epoch ms. */
  at: number;
  what: "SIGTERM" | "SIGKILL" | "start";
}

/** The watcher writing (a record) or removing (undefined) the health state's `drain` file. */
export interface DrainMark {
  at: number;
  record: string | undefined;
  /** How many worker signals came before it: its place on the signals' timeline. */
  afterSignals: number;
}

/**
 * The worker unit in virtual time: SIGTERM (a stop) ends it `exitAfterMs` later, or never when
 * that is undefined (a worker that ignores SIGTERM); SIGKILL ends it at once.
 */
export class VirtualWorker implements WorkerControl {
  readonly signals: WorkerSignal[] = [];
  /** Every DrainEnv.markDraining call, in order (healthState.ts's `drain` file). */
  readonly drainMarks: DrainMark[] = [];
  /** When the worker's processes last exited, virtual epoch ms. */
  exitedAt?: number;
  private exitAt?: number;

  constructor(
    private readonly clock: VirtualClock,
    public exitAfterMs: number | undefined,
    private alive = true,
  ) {}

  private settle(): void {
    if (this.alive && this.exitAt !== undefined && this.clock.t >= this.exitAt) this.exit(this.exitAt);
  }

  private exit(at: number): void {
    this.alive = false;
    this.exitAt = undefined;
    this.exitedAt = at;
  }

  stop(): Promise<void> {
    this.settle();
    this.signals.push({ at: this.clock.t, what: "SIGTERM" });
    if (this.alive && this.exitAt === undefined && this.exitAfterMs !== undefined)
      this.exitAt = this.clock.t + this.exitAfterMs;
    return Promise.resolve();
  }

  running(): Promise<boolean> {
    this.settle();
    return Promise.resolve(this.alive);
  }

  kill(): Promise<void> {
    this.settle();
    this.signals.push({ at: this.clock.t, what: "SIGKILL" });
    if (this.alive) this.exit(this.clock.t);
    return Promise.resolve();
  }

  /** The watcher's DrainEnv.markDraining. */
  markDraining(record: string | undefined): Promise<void> {
    this.drainMarks.push({ at: this.clock.t, record, afterSignals: this.signals.length });
    return Promise.resolve();
  }

  start(): Promise<void> {
    this.signals.push({ at: this.clock.t, what: "start" });
    this.alive = true;
    this.exitAt = undefined;
    return Promise.resolve();
  }

  /** The signals of one kind, in order. */
  sent(what: WorkerSignal["what"]): WorkerSignal[] {
    return this.signals.filter((s) => s.what === what);
  }
}

class SimulationOver extends Error {}

/** Seconds since boot when the simulated watcher starts (the clock of the health record's since=). */
export const SIM_BOOT_UPTIME_SECONDS = 60;

export interface DrainSim {
  fake: FakeAzure;
  worker: VirtualWorker;
  clock: VirtualClock;
  /** Virtual epoch ms when the watcher started. */
  start: number;
  /** Every line the watcher logged, prefixed with virtual seconds since its start. */
  logs: string[];
  /** Every request the watcher made, with its virtual time and per-request timeout. */
  requests: Array<HttpRequest & { at: number }>;
  /** Set when the watcher returned on its own (IMDS refused it). */
  outcome?: Outcome;
  /** Runs `action` once the virtual clock passes `afterMs` from the start. */
  at(afterMs: number, action: () => void): void;
}

export interface DrainSimOptions extends Partial<DrainOptions> {
  /** Virtual ms after which the run stops. */
  untilMs: number;
  fake?: FakeAzureOptions;
  /** The worker's exit after SIGTERM; undefined: it ignores SIGTERM. Default 2000. */
  workerExitAfterMs?: number | null;
  /** Whether the worker runs when the watcher starts (it may have stopped for good). Default true. */
  workerRunning?: boolean;
  seed?: number;
}

/** Runs the drain watcher from virtual time 0 to untilMs; `setup` schedules what happens meanwhile. */
export async function simulateDrainWatcher(setup: (sim: DrainSim) => void, opts: DrainSimOptions): Promise<DrainSim> {
  const clock = new VirtualClock();
  const fake = new FakeAzure({ clock: clock.now, ...opts.fake });
  const exitAfter = opts.workerExitAfterMs === null ? undefined : (opts.workerExitAfterMs ?? 2000);
  const worker = new VirtualWorker(clock, exitAfter, opts.workerRunning ?? true);
  const run = virtualEnv(fake, clock, { seed: opts.seed ?? 1 });
  const start = clock.t;
  const end = start + opts.untilMs;
  const actions: Array<{ at: number; action: () => void }> = [];
  const runDue = () => {
    actions.sort((a, b) => a.at - b.at);
    while (actions.length && actions[0].at <= clock.t) actions.shift()!.action();
    if (clock.t >= end) throw new SimulationOver();
  };
  const sim: DrainSim = {
    fake,
    worker,
    clock,
    start,
    logs: run.logs,
    requests: run.requests,
    at: (afterMs, action) => actions.push({ at: start + afterMs, action }),
  };
  setup(sim);
  const env = {
    ...run.env,
    worker,
    markDraining: (record: string | undefined) => worker.markDraining(record),
    // The VM booted SIM_BOOT_UPTIME_SECONDS before the watcher started.
    uptimeSeconds: () => SIM_BOOT_UPTIME_SECONDS + (clock.t - start) / 1000,
    // Actions fire on the virtual clock's way: never sleep past one, never past the end.
    sleep: (ms: number) => {
      const next = Math.min(end, ...actions.map((a) => a.at));
      clock.t = Math.min(clock.t + Math.max(0, ms), Math.max(clock.t, next));
      runDue();
      return Promise.resolve();
    },
    request: (req: Parameters<typeof run.env.request>[0]) => {
      runDue();
      return run.env.request(req);
    },
  };
  try {
    sim.outcome = await runDrainWatcher(env, {
      imdsUrl: VIRTUAL_URL,
      drainSeconds: opts.drainSeconds ?? 25,
      unit: opts.unit ?? DEFAULT_WORKER_UNIT,
      systemctl: opts.systemctl ?? DEFAULT_SYSTEMCTL,
      stateDir: opts.stateDir ?? HEALTH_STATE_DIR,
    });
  } catch (e) {
    if (!(e instanceof SimulationOver)) throw e;
  }
  return sim;
}

/** A Redeploy with 40 s notice, scheduled at 1 s and cancelled at 39 s, while the VM runs on to 60 s. */
export function simulateCancelledRedeploy(): Promise<DrainSim> {
  return simulateDrainWatcher(
    (s) => {
      let id = "";
      s.at(1000, () => (id = s.fake.scheduledEvents.schedule("Redeploy", { noticeMs: 40_000 })));
      s.at(39_000, () => s.fake.scheduledEvents.remove(id));
    },
    { untilMs: 60_000 },
  );
}
