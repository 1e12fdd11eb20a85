/**
 * npm run bench:agent [-- --quick]
 *
 * Runs the BUILT waiter (agent/dist/waiter.js) as real processes against FakeAzure on
 * loopback and prints:
 * - the latency from provisioningState Succeeded (the moment the fake's VM turns Succeeded)
 *   to the waiter's exit: for a VM that turns Succeeded 2-21 s after the waiter's first ARM read (a VM
 *   without slow extensions: the waiter starts at boot, Succeeded follows the guest's ready
 *   report), in the steady phase after a long Creating, and with --overprovisioned from the
 *   scale set's Succeeded;
 * - CPU seconds per poll (the marginal cost of one ARM read, from the child's own cpuUsage);
 * - bundle and gzip sizes.
 * Runs go in parallel, each with its own FakeAzure, so the whole bench takes ~75 s (~25 s with --quick).
 */
import * as fs from "fs";
import * as zlib from "zlib";
import { BUNDLE, ensureBundle, runWaiterProcess } from "../testkit/fake-azure/agentProcess";
import type { WaiterRun } from "../testkit/fake-azure/agentProcess";
import { FakeAzure } from "../testkit/fake-azure/index";

/** Seconds after the waiter's first ARM read at which the VM (or, with --overprovisioned, the scale set) turns Succeeded. */
const EARLY_FLIPS = [2, 3.5, 5, 6.5, 8, 10, 12, 15, 18, 21];
const STEADY_FLIPS = [40, 70];
const OVERPROVISIONED_FLIPS = [4, 9, 14];
const QUICK_EARLY_FLIPS = [2, 5, 8, 12, 18];

interface Result {
  label: string;
  latencyMs: number;
  polls: number;
  cpuSeconds: number;
  run: WaiterRun;
}

/** Resolves once the waiter's first ARM read has arrived (Node start-up, IMDS and the token are behind it). */
function firstRead(fake: FakeAzure): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = setInterval(() => {
      if (fake.callsTo("vm").length) {
        clearInterval(tick);
        resolve();
      } else if (Date.now() - started > 60000) {
        clearInterval(tick);
        reject(new Error("the waiter made no ARM read within 60 s"));
      }
    }, 5);
  });
}

async function one(label: string, flipSeconds: number, overprovisioned: boolean): Promise<Result> {
  const fake = new FakeAzure();
  const url = await fake.listen();
  const args = ["--imds-url", url, "--arm-url", url, "--timeout", "300"];
  if (overprovisioned) args.push("--overprovisioned");
  const running = runWaiterProcess(args, { measureCpu: true, killAfterMs: 200000 });
  // The timeline starts at the first ARM read, so that a slow process start on a busy machine
  // is not counted as polling latency.
  await firstRead(fake);
  if (overprovisioned)
    fake.timeline([
      { at: 1000, vm: "Succeeded" },
      { at: flipSeconds * 1000, scaleSet: "Succeeded" },
    ]);
  else fake.schedule(flipSeconds * 1000, { vm: "Succeeded" });
  const run = await running;
  await fake.close();
  if (run.code !== 0) throw new Error(`${label}: the waiter exited ${run.code}\n${run.stderr}`);
  const flip = overprovisioned ? fake.changedAt("scaleSet", "Succeeded") : fake.changedAt("vm", "Succeeded");
  return {
    label,
    latencyMs: run.exitedAt - flip!,
    polls: fake.calls.filter((c) => c.route === "vm" || c.route === "scaleSet").length,
    cpuSeconds: (run.cpuMicros || 0) / 1e6,
    run,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const quick = process.argv.indexOf("--quick") >= 0;
  ensureBundle();
  const code = fs.readFileSync(BUNDLE);
  const gz = zlib.gzipSync(code, { level: 9 }).length;

  const early = quick ? QUICK_EARLY_FLIPS : EARLY_FLIPS;
  const steady = quick ? [] : STEADY_FLIPS;
  const over = quick ? [OVERPROVISIONED_FLIPS[0]] : OVERPROVISIONED_FLIPS;
  const [earlyRuns, steadyRuns, overRuns] = await Promise.all([
    Promise.all(early.map((t) => one(`Succeeded at ${t} s`, t, false))),
    Promise.all(steady.map((t) => one(`Succeeded at ${t} s`, t, false))),
    Promise.all(over.map((t) => one(`scale set Succeeded at ${t} s`, t, true))),
  ]);

  const all = [...earlyRuns, ...steadyRuns, ...overRuns];
  // The marginal CPU of a poll: the slope of CPU over polls between the cheapest and dearest runs
  // (start-up, IMDS and the token cost the same in every run).
  const byPolls = [...all].sort((a, b) => a.polls - b.polls);
  const lo = byPolls[0];
  const hi = byPolls[byPolls.length - 1];
  const perPoll = hi.polls > lo.polls ? (hi.cpuSeconds - lo.cpuSeconds) / (hi.polls - lo.polls) : NaN;

  const lines = [
    "waiter benchmark: node agent/dist/waiter.js against FakeAzure on loopback",
    `node ${process.version}; ${all.length} runs in parallel`,
    "",
    `bundle: ${code.length} bytes, ${gz} bytes gzipped (budget 10240)`,
    "",
    `latency Succeeded -> exit, VM Succeeded ${early[0]}-${early[early.length - 1]} s after the waiter's first read (${earlyRuns.length} runs):`,
    `  median ${sec(median(earlyRuns.map((r) => r.latencyMs)))}, max ${sec(Math.max(...earlyRuns.map((r) => r.latencyMs)))}`,
    `  each: ${earlyRuns.map((r) => sec(r.latencyMs)).join(", ")}`,
  ];
  if (steadyRuns.length) {
    lines.push(
      `latency Succeeded -> exit in the steady pacing after the fast phase (Succeeded at ${steady.join(" s, ")} s): ${steadyRuns.map((r) => sec(r.latencyMs)).join(", ")}`,
    );
  }
  lines.push(
    `latency scale set Succeeded -> exit with --overprovisioned (${overRuns.length} runs): median ${sec(median(overRuns.map((r) => r.latencyMs)))}`,
    "",
    `CPU seconds per poll: ${isNaN(perPoll) ? "n/a" : perPoll.toFixed(4)} (marginal: ${lo.polls} polls took ${lo.cpuSeconds.toFixed(3)} s of CPU, ${hi.polls} polls ${hi.cpuSeconds.toFixed(3)} s)`,
    `CPU seconds per run: median ${median(all.map((r) => r.cpuSeconds)).toFixed(3)} (Node start-up, IMDS and token included; median ${median(all.map((r) => r.polls))} polls)`,
    `CPU seconds per poll, start-up spread over the polls: median ${median(all.map((r) => r.cpuSeconds / r.polls)).toFixed(4)}`,
    "",
    "reference: the tutorial's sleep-loop script measured 17.5-18.7 s from Succeeded to start",
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench-agent: ${err.message}\n`);
  process.exit(1);
});
