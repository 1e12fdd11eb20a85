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
 * - the health server's cost: CPU per probe over 2,000 sequential probes of a started worker
 *   (two file reads each), CPU while idle, and its resident memory;
 * - bundle and gzip sizes.
 * Runs go in parallel, each with its own FakeAzure, so the whole bench takes ~75 s (~25 s with --quick).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import * as http from "http";
import * as net from "net";
import { BUNDLE, ensureBundle, runWaiterProcess, startHealthServer } from "../testkit/fake-azure/agentProcess";
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

const HEALTH_PROBES = 2000;
const HEALTH_IDLE_MS = 3000;

/** utime + stime of a process, in seconds, from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s). */
function cpuOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident and private (not shared with other processes, such as Node's own code) memory, in MiB. */
function memoryOf(pid: number): string {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = (key: string) =>
    [...rollup.matchAll(new RegExp(`^${key}:\\s+(\\d+)`, "gm"))].reduce((a, m) => a + Number(m[1]), 0);
  const mib = (k: number) => (k / 1024).toFixed(1);
  return `RSS ${mib(kib("Rss"))} MiB, private ${mib(kib("Private_(?:Clean|Dirty)"))} MiB`;
}

function probe(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/health", agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      })
      .on("error", reject);
  });
}

/** The health server's CPU per probe, its CPU while idle and its memory, on a started (forking) worker. */
async function healthCost(): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-health-"));
  const cgroup = path.join(dir, "cg", "w");
  fs.mkdirSync(cgroup, { recursive: true });
  fs.writeFileSync(path.join(cgroup, "cgroup.events"), "populated 1\nfrozen 0\n");
  fs.writeFileSync(path.join(dir, "worker"), "started since=1 pid=1 cgroup=/w kind=forking\n");
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const server = startHealthServer(["--port", String(port), "--state-dir", dir, "--cgroup-root", path.join(dir, "cg")]);
  await server.ready;
  const pid = server.pid;
  await probe(port);
  const c0 = cpuOf(pid);
  const t0 = Date.now();
  for (let i = 0; i < HEALTH_PROBES; i++) await probe(port);
  const elapsed = Date.now() - t0;
  const c1 = cpuOf(pid);
  await new Promise((resolve) => setTimeout(resolve, HEALTH_IDLE_MS));
  const c2 = cpuOf(pid);
  const memory = memoryOf(pid);
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return [
    `health server: ${HEALTH_PROBES} probes in ${(elapsed / 1000).toFixed(2)} s, CPU per probe ${(((c1 - c0) / HEALTH_PROBES) * 1e6).toFixed(0)} µs; ` +
      `CPU over ${HEALTH_IDLE_MS / 1000} s idle ${(c2 - c1).toFixed(2)} s; ${memory} ` +
      `(the extension probes every intervalInSeconds, at most once every 5 s)`,
  ];
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

  const health = await healthCost();
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
    ...health,
    "",
    "reference: the tutorial's sleep-loop script measured 17.5-18.7 s from Succeeded to start",
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench-agent: ${err.message}\n`);
  process.exit(1);
});
