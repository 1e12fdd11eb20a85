/**
 * npm run bench:agent [-- --quick]
 *
 * Runs the BUILT waiter (agent/dist/waiter.js) as real processes against FakeAzure on
 * loopback and prints:
 * - the latency from provisioningState Succeeded (the moment the fake's VM turns Succeeded)
 *   to the waiter's exit: for a VM that turns Succeeded 2-21 s after the waiter's first ARM read (a VM
 *   without slow extensions: the waiter starts at boot, Succeeded follows the guest's ready
 *   report), in the steady phase after a long Creating, and with --kept-file: Succeeded after
 *   the kept file (the extension ran first), and the kept file after Succeeded (file -> exit);
 * - CPU seconds per poll (the marginal cost of one ARM read, from the child's own cpuUsage);
 * - bundle and gzip sizes.
 * Runs go in parallel, each with its own FakeAzure, so the whole bench takes ~75 s (~25 s with --quick).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { BUNDLE, ensureBundle, runWaiterProcess } from "../testkit/fake-azure/agentProcess";
import type { WaiterRun } from "../testkit/fake-azure/agentProcess";
import { FakeAzure } from "../testkit/fake-azure/index";

/** Seconds after the waiter's first ARM read at which the VM (or, kept-after, the kept file) turns up. */
const EARLY_FLIPS = [2, 3.5, 5, 6.5, 8, 10, 12, 15, 18, 21];
const STEADY_FLIPS = [40, 70];
const KEPT_FLIPS = [4, 9, 14];
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

/**
 * plain: no --kept-file, the VM turns Succeeded at flipSeconds. keptFirst: --kept-file, the file
 * is written at the first read (the extension ran), Succeeded follows at flipSeconds.
 * keptLast: --kept-file, Succeeded at 1 s, the file written at flipSeconds (latency from the file).
 */
type Mode = "plain" | "keptFirst" | "keptLast";

async function one(label: string, flipSeconds: number, mode: Mode): Promise<Result> {
  const fake = new FakeAzure();
  const url = await fake.listen();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-kept-"));
  const kept = path.join(dir, "kept");
  const args = ["--imds-url", url, "--arm-url", url, "--timeout", "300"];
  if (mode !== "plain") args.push("--kept-file", kept);
  const running = runWaiterProcess(args, { measureCpu: true, killAfterMs: 200000 });
  // The timeline starts at the first ARM read, so that a slow process start on a busy machine
  // is not counted as polling latency.
  await firstRead(fake);
  let from: number | undefined;
  if (mode === "keptLast") {
    fake.schedule(1000, { vm: "Succeeded" });
    setTimeout(() => {
      fs.writeFileSync(kept, fake.vmId);
      from = Date.now();
    }, flipSeconds * 1000);
  } else {
    if (mode === "keptFirst") fs.writeFileSync(kept, fake.vmId);
    fake.schedule(flipSeconds * 1000, { vm: "Succeeded" });
  }
  const run = await running;
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (run.code !== 0) throw new Error(`${label}: the waiter exited ${run.code}\n${run.stderr}`);
  if (mode !== "keptLast") from = fake.changedAt("vm", "Succeeded");
  return {
    label,
    latencyMs: run.exitedAt - from!,
    polls: fake.callsTo("vm").length,
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
  const kept = quick ? [KEPT_FLIPS[0]] : KEPT_FLIPS;
  const [earlyRuns, steadyRuns, keptFirstRuns, keptLastRuns] = await Promise.all([
    Promise.all(early.map((t) => one(`Succeeded at ${t} s`, t, "plain"))),
    Promise.all(steady.map((t) => one(`Succeeded at ${t} s`, t, "plain"))),
    Promise.all(kept.map((t) => one(`kept file, then Succeeded at ${t} s`, t, "keptFirst"))),
    Promise.all(kept.map((t) => one(`Succeeded, then the kept file at ${t} s`, t, "keptLast"))),
  ]);

  const all = [...earlyRuns, ...steadyRuns, ...keptFirstRuns, ...keptLastRuns];
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
    `latency with --kept-file, the file first, Succeeded -> exit (${keptFirstRuns.length} runs): median ${sec(median(keptFirstRuns.map((r) => r.latencyMs)))}`,
    `latency with --kept-file, Succeeded first, kept file -> exit (${keptLastRuns.length} runs): median ${sec(median(keptLastRuns.map((r) => r.latencyMs)))}, max ${sec(Math.max(...keptLastRuns.map((r) => r.latencyMs)))}`,
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
