/**
 * One waiter run in virtual time against a FakeAzure, for the agent's core tests (and anyone
 * else who wants the pure core's behaviour without a process):
 *
 *   const sim = await simulateWaiter((fake, files) => {
 *     fake.schedule(5000, { vm: "Succeeded" });
 *     files.schedule(4000, KEPT, fake.vmId);
 *   }, { keptFile: KEPT });
 *   sim.outcome; sim.fake.callsTo("vm"); sim.logs; sim.elapsed;
 */
import { runWaiter } from "../../agent/src/core/waiter";
import type { Outcome, WaiterOptions } from "../../agent/src/core/types";
import { FakeAzure } from "./index";
import type { FakeAzureOptions, FakeCall } from "./index";
import { VirtualClock, virtualEnv, VIRTUAL_URL } from "./virtualEnv";
import type { VirtualFiles } from "./virtualEnv";

export interface Sim {
  outcome: Outcome;
  fake: FakeAzure;
  files: VirtualFiles;
  /** Every line the waiter logged, prefixed with virtual seconds since its start. */
  logs: string[];
  /** Virtual ms from the waiter's start to its end. */
  elapsed: number;
  /** Virtual epoch ms when the waiter started. */
  start: number;
  /** Every URL the waiter requested, in order. */
  urls: string[];
}

export type SimOptions = Partial<WaiterOptions> & { fake?: FakeAzureOptions; seed?: number };

/** Runs the waiter (--imds-url and --arm-url at the fake, --timeout 3600 unless given) after `setup`. */
export async function simulateWaiter(
  setup: (fake: FakeAzure, files: VirtualFiles) => void,
  opts: SimOptions = {},
): Promise<Sim> {
  const clock = new VirtualClock();
  const fake = new FakeAzure({ clock: clock.now, ...opts.fake });
  const run = virtualEnv(fake, clock, { seed: opts.seed ?? 1 });
  setup(fake, run.files);
  const start = clock.t;
  const { fake: _f, seed: _s, ...waiterOpts } = opts;
  const outcome = await runWaiter(run.env, {
    imdsUrl: VIRTUAL_URL,
    armUrl: VIRTUAL_URL,
    timeoutSeconds: 3600,
    ...waiterOpts,
  });
  return {
    outcome,
    fake,
    files: run.files,
    logs: run.logs,
    elapsed: clock.t - start,
    start,
    urls: run.requests.map((r) => r.url),
  };
}

/** Virtual ms after the waiter's start at which a call reached the fake. */
export function sinceStart(sim: Sim, call: FakeCall): number {
  return call.at - sim.start;
}
