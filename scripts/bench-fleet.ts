/**
 * `npm run bench:fleet`: deployments in virtual time, every instance running the agent's own
 * decision core (agent/src/core, the code esbuild bundles into agent/dist/waiter.js) against a
 * simulated region that enforces every budget Azure documents (scripts/fleet/region.ts). Rows:
 * N = 10, 100, 500 and 1,000 in one scale set, and ten scale sets of 1,000 in one subscription;
 * each without and with overprovisioning (the waiter then gets --kept-file); each as a later
 * scale-out and as a first deployment (RBAC lands after the create). It prints the assumptions,
 * the table with the goals, sensitivity lines, writes docs/fleet-latency.svg, and ends with the
 * overprovisioned scale-out at N = 1,000 against the tutorial's script ("seed").
 *
 *   npm run bench:fleet [-- --seed 7 --quick]
 *
 * --quick skips the ten-scale-set rows and the sensitivity lines (and the chart).
 */
import * as fs from "fs";
import * as path from "path";
import { runWaiter } from "../agent/src/core";
import { renderChart } from "./fleet/chart";
import { HOLD_MODELS, RBAC_PROPAGATION_SENSITIVITY_S } from "./fleet/constants";
import type { HoldModel } from "./fleet/constants";
import { HEADER, Row, assumptions, formatRow, misses, ratio, s } from "./fleet/report";
import { FleetOptions, FleetResult, runFleet } from "./fleet/run";
import { runTutorial } from "./fleet/tutorial";

const DEFAULT_SEED = 20261124;
const CHART = path.join(__dirname, "..", "docs", "fleet-latency.svg");
const SINGLE = [10, 100, 500, 1000];
/** Ten Uniform scale sets at their maximum, in one subscription. */
const MANY = { scaleSets: 10, requested: 1000 };
/** Creation rates the sensitivity lines rerun N = 1,000 at (instances/s per scale set). */
const SENSITIVITY_RATES = [10, 50];

interface Args {
  seed: number;
  quick: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seed: DEFAULT_SEED, quick: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--seed" && /^\d+$/.test(argv[i + 1] ?? "")) args.seed = Number(argv[++i]);
    else if (argv[i] === "--quick") args.quick = true;
    else {
      console.error(`bench-fleet: unknown or bad argument "${argv[i]}"; usage: bench-fleet [--seed INTEGER] [--quick]`);
      process.exit(2);
    }
  }
  return args;
}

/** One seed per layout and deployment kind, shared by its plain and overprovisioned rows. */
const seedFor = (a: Args, scaleSets: number, requested: number, first: boolean): number =>
  a.seed + scaleSets * requested + (first ? 1 : 0);

async function row(
  a: Args,
  scaleSets: number,
  requested: number,
  overprovision: boolean,
  first: boolean,
): Promise<Row> {
  const o: FleetOptions = { scaleSets, requested, overprovision, first, seed: seedFor(a, scaleSets, requested, first) };
  return { scaleSets, requested, overprovision, first, result: await runFleet(runWaiter, o) };
}

async function table(a: Args): Promise<Row[]> {
  const layouts = SINGLE.map((n) => ({ scaleSets: 1, requested: n }));
  if (!a.quick) layouts.push(MANY);
  const rows: Row[] = [];
  for (const first of [false, true]) {
    for (const l of layouts) {
      const plain = await row(a, l.scaleSets, l.requested, false, first);
      const over = await row(a, l.scaleSets, l.requested, true, first);
      over.plain = plain;
      rows.push(plain, over);
      console.log(formatRow(plain));
      console.log(formatRow(over));
    }
  }
  return rows;
}

const brief = (r: FleetResult): string =>
  `p50 ${s(r.latency.p50)} s (bound ${s(r.bound.p50)} s, ${ratio(r).toFixed(2)}×), request→start ${s(r.requestToStart.p50)} s, ${r.throttled} 429s`;

/** Each line reruns N = 1,000 in one scale set with one assumption changed. */
async function sensitivity(a: Args): Promise<void> {
  const n = 1000;
  const base = (overprovision: boolean, first: boolean): FleetOptions => ({
    requested: n,
    overprovision,
    first,
    seed: seedFor(a, 1, n, first),
  });
  for (const hold of HOLD_MODELS.filter((h) => h !== "provisioned") as HoldModel[]) {
    const r = await runFleet(runWaiter, { ...base(true, false), hold });
    console.log(`  hold "${hold}": overprovisioned scale-out ${brief(r)}`);
  }
  const rbacPropagationS = RBAC_PROPAGATION_SENSITIVITY_S;
  const slowPlain = await runFleet(runWaiter, { ...base(false, true), rbacPropagationS });
  const slowOver = await runFleet(runWaiter, { ...base(true, true), rbacPropagationS });
  console.log(
    `  RBAC propagating in ${rbacPropagationS / 60} min: first deployment plain ${brief(slowPlain)}; overprovisioned ${brief(slowOver)}`,
  );
  const blind = await runFleet(runWaiter, { ...base(true, true), forbiddenCounted: false });
  console.log(`  a 403 neither counted nor reported: overprovisioned first deployment ${brief(blind)}`);
  for (const createPerS of SENSITIVITY_RATES) {
    const plain = await runFleet(runWaiter, { ...base(false, false), createPerS });
    const over = await runFleet(runWaiter, { ...base(true, false), createPerS });
    console.log(`  ${createPerS} instances/s created: scale-out plain ${brief(plain)}; overprovisioned ${brief(over)}`);
  }
  const agent = await runFleet(runWaiter, { ...base(true, false), extrasReadSucceeded: true });
  const script = await runFleet(runTutorial, { ...base(true, false), extrasReadSucceeded: true, keptFile: false });
  console.log(
    `  extras read Succeeded until culled: agent ${agent.workersOnExtras} workers on extras (${brief(agent)}); the tutorial's script ${script.workersOnExtras}`,
  );
}

function chart(rows: Row[], seedRuns: FleetResult[], seed: number): void {
  const scaleOut = (over: boolean) =>
    rows.filter((r) => r.scaleSets === 1 && !r.first && r.overprovision === over).map((r) => r.result);
  const pts = (rs: FleetResult[], f: (r: FleetResult) => number) =>
    rs.map((r) => [r.requested, f(r) / 1000]) as [number, number][];
  const series = [
    { label: "agent p50, plain", color: "#1f6feb", points: pts(scaleOut(false), (r) => r.latency.p50) },
    { label: "bound p50, plain", color: "#1f6feb", dashed: true, points: pts(scaleOut(false), (r) => r.bound.p50) },
    { label: "agent p50, overprov.", color: "#8250df", points: pts(scaleOut(true), (r) => r.latency.p50) },
    {
      label: "agent p99, overprov.",
      color: "#8250df",
      dashed: true,
      points: pts(scaleOut(true), (r) => r.latency.p99),
    },
    { label: "bound p50, overprov.", color: "#2da44e", dashed: true, points: pts(scaleOut(true), (r) => r.bound.p50) },
    { label: "tutorial p50, overprov.", color: "#d1242f", points: pts(seedRuns, (r) => r.latency.p50) },
  ];
  const title = `Succeeded → worker start, later scale-out, one scale set (seed ${seed})`;
  fs.writeFileSync(CHART, renderChart(title, SINGLE, series));
  console.log(`chart: ${path.relative(process.cwd(), CHART)}`);
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  console.log(`bench:fleet, seed ${a.seed}: the agent's core on every instance; the tutorial's script as "seed"`);
  for (const line of assumptions()) console.log(line);
  console.log(`\n${HEADER}`);
  const rows = await table(a);
  console.log(
    "Succ→start: Succeeded → worker start over the kept instances; request→start: the scale set's request (create or scale-out) → worker start;" +
      "\nreads/VM: ARM requests per instance created (429s included); extras: workers started on instances deleted afterwards; bound: the floor" +
      "\nof scripts/fleet/bound.ts; beyond bound: request→start p50 minus the bound's (the agent's own part); hold: an overprovisioned row's" +
      "\nown part may exceed its plain row's (or 0) by 25 % of its bound, at least 1 s (report.ts holdExcessMs).",
  );
  const missed = rows.filter((r) => misses(r).length > 0);
  console.log(
    missed.length
      ? `goals (0 × 429, 0 extras, p50 ≤ 1.25 × bound, hold) missed on ${missed.length} of ${rows.length} rows: ${missed.map((r) => `${r.scaleSets}×${r.requested} ${r.overprovision ? "overprov" : "plain"} ${r.first ? "first" : "scale-out"} (${misses(r).join(", ")})`).join("; ")}`
      : `goals (0 × 429, 0 extras, p50 ≤ 1.25 × bound, hold) met on all ${rows.length} rows`,
  );
  const seedRuns: FleetResult[] = [];
  for (const n of SINGLE) {
    const o: FleetOptions = {
      requested: n,
      overprovision: true,
      first: false,
      seed: seedFor(a, 1, n, false),
      keptFile: false,
    };
    seedRuns.push(await runFleet(runTutorial, o));
  }
  if (!a.quick) {
    console.log("\nsensitivity (N = 1,000, one scale set, one assumption changed):");
    await sensitivity(a);
    if (a.seed === DEFAULT_SEED) chart(rows, seedRuns, a.seed);
  }
  console.log(`real time: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const last = rows.find((r) => r.scaleSets === 1 && r.requested === 1000 && r.overprovision && !r.first)!.result;
  const seed = seedRuns[seedRuns.length - 1];
  console.log(
    `fleet: N=1000 overprovisioned agent p50 ${s(last.latency.p50)}s p99 ${s(last.latency.p99)}s bound ${s(last.bound.p50)}s ratio ${ratio(last).toFixed(2)} 429s ${last.throttled} extras ${last.workersOnExtras} reads/vm ${last.armReadsPerVm.toFixed(1)} seed p50 ${s(seed.latency.p50)}s`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
