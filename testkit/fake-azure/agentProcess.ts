/**
 * Runs the BUILT waiter (agent/dist/waiter.js) as a child process, for the process tests,
 * the benchmark and anyone else who wants the real thing against FakeAzure.
 */
import { execSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const BUNDLE = path.join(REPO_ROOT, "agent", "dist", "waiter.js");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the bundle with the package's own script when it is missing or older than agent/src. */
export function ensureBundle(): string {
  const stale =
    !fs.existsSync(BUNDLE) || fs.statSync(BUNDLE).mtimeMs < newestSource(path.join(REPO_ROOT, "agent", "src"));
  if (stale) execSync("npm run --silent build:agent", { cwd: REPO_ROOT, stdio: "pipe" });
  return BUNDLE;
}

export interface WaiterRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Epoch ms just before spawn, and at exit. */
  startedAt: number;
  exitedAt: number;
  /** process.cpuUsage() of the child at exit, in µs, when `measureCpu` was set. */
  cpuMicros?: number;
}

export interface SpawnOptions {
  /** Extra environment variables (merged over this process's). */
  env?: Record<string, string>;
  /** Kill the child after this long (a safety net so a broken waiter cannot hang a test); default 60 s. */
  killAfterMs?: number;
  /** Report the child's own CPU time (user + system) at exit. */
  measureCpu?: boolean;
  /** Sees each chunk of the child's stderr as it arrives (for timing a step after a log line). */
  onStderr?: (chunk: string) => void;
  /** SIGTERM to the child once this holds for its stderr so far (checked on each chunk and every 100 ms; the drain
   *  watcher never exits by itself). */
  until?: (stderr: string) => boolean;
}

const CPU_PROBE = `process.on("exit", () => { const u = process.cpuUsage(); try { require("fs").writeSync(3, String(u.user + u.system)); } catch (e) {} });`;

/** node agent/dist/waiter.js ...args (`drain-watcher ...` too); resolves when it exits. */
export function runWaiterProcess(args: string[], opts: SpawnOptions = {}): Promise<WaiterRun> {
  const nodeArgs = opts.measureCpu
    ? ["-e", `${CPU_PROBE} require(${JSON.stringify(BUNDLE)});`, "--", BUNDLE, ...args]
    : [BUNDLE, ...args];
  const startedAt = Date.now();
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...process.env, ...(opts.env || {}) },
    stdio: opts.measureCpu ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let cpu = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (opts.onStderr) opts.onStderr(d.toString());
    if (opts.until && opts.until(stderr)) child.kill("SIGTERM");
  });
  // Also between log lines: `until` may wait for a side effect that follows the last line (a file written).
  const untilPoll = opts.until ? setInterval(() => opts.until!(stderr) && child.kill("SIGTERM"), 100) : undefined;
  if (opts.measureCpu) (child.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => (cpu += d.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 60000);
  let exitedAt = 0;
  child.on("exit", () => {
    exitedAt = Date.now();
    clearTimeout(killer);
    if (untilPoll) clearInterval(untilPoll);
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    // "close" comes after "exit", once the pipes have drained.
    child.on("close", (code, signal) =>
      resolve({ code, signal, stdout, stderr, startedAt, exitedAt, cpuMicros: cpu ? Number(cpu) : undefined }),
    );
  });
}

export interface HealthServerProcess {
  pid: number;
  /** Every stderr line so far (the journal). */
  log(): string;
  /** Resolves once it logs that it answers; rejects if it exits first. */
  ready: Promise<void>;
  /** Resolves with the exit code once it exits. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** node agent/dist/waiter.js health-server ...args, kept running until stop(). */
export function startHealthServer(args: string[]): HealthServerProcess {
  const child = spawn(process.execPath, [BUNDLE, "health-server", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let onLine: () => void = () => undefined;
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    onLine();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    onLine = () => (/serving http:/.test(stderr) ? resolve() : undefined);
    void exited.then((code) => reject(new Error(`health-server exited with ${code}: ${stderr}`)));
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    log: () => stderr,
    ready,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
