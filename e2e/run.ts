/**
 * `npm run test:e2e [-- SPEC...]`: checks the host tools, builds the waiter bundle, builds or
 * reuses the cached guest image, indexes its apt repository, picks KVM or TCG, then runs the
 * scenarios with mocha (two guests at a time). Whatever happens, every process the e2e started is killed by PID at the end.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ACCEL_ENV, detectAccel } from "./lib/accel";
import { ensureAptRepo, removeStaleAptRepos } from "./lib/aptRepo";
import { ensureImage } from "./lib/image";
import { REPO_ROOT, WORK_DIR } from "./lib/paths";
import {
  installSignalCleanup,
  killAllTracked,
  registryDir,
  spawnTracked,
  sweepOwnRegistry,
  sweepStaleRegistries,
} from "./lib/processes";

/** Guests booted at once. Each TCG guest keeps one host core busy; override with E2E_JOBS. */
const DEFAULT_JOBS = 2;
const MOCHA_CONFIG = path.join("e2e", "mocharc.json");
/**
 * The scenarios, longest first (measured "scenario, start to end" lines), so that the two mocha
 * workers finish together instead of one starting the longest guest last. Every file in
 * e2e/scenarios must be listed; the harness self-test (e2e/harness.selftest.ts) runs only when named.
 */
const SCENARIOS_DIR = path.join("e2e", "scenarios");
const DEFAULT_SPECS = [
  "systemd",
  "cloudInit",
  "customScript",
  "drain",
  "overprovisioned",
  "nodeMirrorDown",
  "nodeAptLocks",
  "nodeNotInstallable",
  "keptForeign",
  "keptCustomScript",
].map((name) => path.join(SCENARIOS_DIR, `${name}.e2e.ts`));

function checkScenarioList(): void {
  const onDisk = fs.readdirSync(path.join(REPO_ROOT, SCENARIOS_DIR)).filter((f) => f.endsWith(".e2e.ts"));
  const missing = onDisk.map((f) => path.join(SCENARIOS_DIR, f)).filter((f) => !DEFAULT_SPECS.includes(f));
  if (missing.length > 0) throw new Error(`e2e/run.ts: add ${missing.join(", ")} to DEFAULT_SPECS`);
}

/** Host commands the e2e runs, and the Debian package that provides each. */
const REQUIRED_TOOLS: Record<string, string> = {
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-img": "qemu-utils",
  "cloud-localds": "cloud-image-utils",
  socat: "socat",
  mmdebstrap: "mmdebstrap",
  mke2fs: "e2fsprogs",
  "apt-ftparchive": "apt-utils",
};

const log = (line: string) => process.stderr.write(line + "\n");

function checkTools(): void {
  const missing = Object.entries(REQUIRED_TOOLS).filter(
    ([tool]) => spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status !== 0,
  );
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(" ");
    throw new Error(
      `e2e: missing ${missing.map(([t]) => t).join(", ")}; install them with: apt-get install -y ${packages}`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new Error("e2e: building the guest image with mmdebstrap needs root; run as root (or with sudo)");
  }
}

/**
 * Each test process keeps its overlays and console logs in e2e/.work/run-PID for a post-mortem;
 * the next run removes those of processes that are gone.
 */
function removeStaleRunDirs(): void {
  for (const entry of fs.readdirSync(WORK_DIR)) {
    const m = /^run-(\d+)$/.exec(entry);
    if (m && !fs.existsSync(`/proc/${m[1]}`)) fs.rmSync(path.join(WORK_DIR, entry), { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  installSignalCleanup(() => sweepOwnRegistry(log));
  const t0 = Date.now();
  checkTools();
  fs.mkdirSync(WORK_DIR, { recursive: true });
  await sweepStaleRegistries(log);
  registryDir();
  removeStaleRunDirs();

  checkScenarioList();
  const specs = process.argv.slice(2);
  // The scenarios must run the agent as it is in this tree, not a stale bundle. The harness
  // self-test uses no component code, so it runs before the agent exists.
  if (specs.length === 0 || specs.some((s) => !s.includes("selftest"))) {
    try {
      execFileSync("npm", ["run", "-s", "build:agent"], { cwd: REPO_ROOT, stdio: "inherit" });
    } catch {
      throw new Error("e2e: `npm run build:agent` failed (see above); the scenarios need agent/dist/waiter.js");
    }
  }

  const image = await ensureImage(log);
  removeStaleAptRepos(image);
  log(`e2e: the guests' apt repository (nodejs and what the image lacks) is ${ensureAptRepo(image)}`);
  const accel = await detectAccel(image, log);
  log(`e2e: setup took ${((Date.now() - t0) / 1000).toFixed(1)} s; running scenarios under ${accel.toUpperCase()}`);

  const jobs = process.env.E2E_JOBS ?? String(DEFAULT_JOBS);
  const mocha = spawnTracked(
    process.execPath,
    [
      require.resolve("mocha/bin/mocha.js"),
      "--config",
      MOCHA_CONFIG,
      "--jobs",
      jobs,
      ...(specs.length > 0 ? specs : DEFAULT_SPECS),
    ],
    { cwd: REPO_ROOT, stdio: "inherit", env: { ...process.env, [ACCEL_ENV]: accel } },
  );
  const code = await new Promise<number>((resolve) =>
    mocha.once("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0))),
  );
  log(`e2e: finished in ${((Date.now() - t0) / 1000).toFixed(1)} s (mocha exit ${code})`);
  return code;
}

void main()
  .catch((e: unknown) => {
    log(e instanceof Error ? e.message : String(e));
    return 1;
  })
  .then(async (code) => {
    await killAllTracked();
    // Test processes register what they start; a crashed one leaves its guests for us.
    await sweepOwnRegistry(log);
    process.exit(code);
  });
