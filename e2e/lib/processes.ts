/**
 * Every process the e2e starts goes through here, so that each one is killed by its PID: in the
 * tests' after hooks, on SIGINT/SIGTERM, and, for a mocha worker that died without cleaning up,
 * by the runner's final sweep of the PID registry (e2e/run.ts).
 */
import { ChildProcess, spawn, SpawnOptions } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PID_REGISTRY_DIR } from "./paths";

/** Time a process gets to exit after SIGTERM before it gets SIGKILL. */
const TERM_GRACE_MS = 3000;
const EXIT_POLL_MS = 50;

interface Tracked {
  pid: number;
  child?: ChildProcess;
  startTime: string;
}

const tracked = new Map<number, Tracked>();

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. With the PID
 *  it names one process for good, so a recycled PID is never killed by mistake. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may contain spaces.
    const afterComm = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return afterComm[22 - 3];
  } catch {
    return undefined;
  }
}

/** Names the registry of one e2e run; the runner sets it for mocha and its workers. */
export const REGISTRY_ENV = "E2E_PID_REGISTRY";
const OWNER_FILE = "owner";

/**
 * This run's registry: one folder per runner process, so concurrent runs (two developers'
 * terminals, a CI retry) never sweep each other's guests.
 */
export function registryDir(): string {
  let dir = process.env[REGISTRY_ENV];
  if (!dir) {
    dir = path.join(PID_REGISTRY_DIR, String(process.pid));
    process.env[REGISTRY_ENV] = dir;
  }
  if (!fs.existsSync(path.join(dir, OWNER_FILE))) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, OWNER_FILE),
      JSON.stringify({ pid: process.pid, startTime: procStartTime(process.pid) }),
    );
  }
  return dir;
}

function registryFile(pid: number): string {
  return path.join(registryDir(), `${pid}.json`);
}

function register(pid: number, child: ChildProcess | undefined, what: string): void {
  const startTime = procStartTime(pid) ?? "";
  tracked.set(pid, { pid, child, startTime });
  fs.writeFileSync(registryFile(pid), JSON.stringify({ pid, startTime, what }) + "\n");
}

function unregister(pid: number): void {
  tracked.delete(pid);
  fs.rmSync(registryFile(pid), { force: true });
}

/** spawn(), tracked. The child's PID is registered before this returns. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, options);
  if (child.pid === undefined) {
    throw new Error(`could not start ${command}: is it installed and on PATH?`);
  }
  const pid = child.pid;
  register(pid, child, [command, ...args].join(" ").slice(0, 200));
  child.once("exit", () => unregister(pid));
  return child;
}

/**
 * Running direct children of `pid` (qemu runs one socat per guest connection to the fake). A
 * zombie is not running: it is a child that exited and that Node reaps a moment later.
 */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") out.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return out;
}

function alive(pid: number, startTime: string): boolean {
  const now = procStartTime(pid);
  if (now === undefined || now !== startTime) return false;
  try {
    // A zombie still has /proc/PID; it is dead for our purpose.
    return !/^\S+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitGone(pid: number, startTime: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid, startTime)) return true;
    await new Promise((r) => setTimeout(r, EXIT_POLL_MS));
  }
  return !alive(pid, startTime);
}

/** SIGTERM, then SIGKILL after a grace period; then the same for any children it left behind. */
export async function killPid(pid: number, startTime = procStartTime(pid) ?? ""): Promise<void> {
  const children = childPids(pid).map((c) => ({ pid: c, startTime: procStartTime(c) ?? "" }));
  if (alive(pid, startTime)) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    if (!(await waitGone(pid, startTime, TERM_GRACE_MS))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      await waitGone(pid, startTime, TERM_GRACE_MS);
    }
  }
  for (const c of children) await killPid(c.pid, c.startTime);
  unregister(pid);
}

/** Kills every process this process started that is still running. */
export async function killAllTracked(): Promise<void> {
  await Promise.all([...tracked.values()].map((t) => killPid(t.pid, t.startTime)));
}

/** Kills what the processes of one registry started and left running, then removes the registry. */
async function sweepDir(dir: string, log: (l: string) => void): Promise<void> {
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith(".json")) continue;
    const file = path.join(dir, name);
    try {
      const { pid, startTime, what } = JSON.parse(fs.readFileSync(file, "utf8"));
      if (alive(pid, startTime)) {
        log(`e2e: killing leftover PID ${pid} (${what})`);
        await killPid(pid, startTime);
      }
    } catch {
      // A half-written entry: its process was never started.
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** For the runner, at the end: kill whatever this run's (possibly crashed) test processes left. */
export async function sweepOwnRegistry(log: (l: string) => void = () => undefined): Promise<void> {
  const dir = registryDir();
  await sweepDir(dir, log);
}

/** For the runner, at the start: sweep the registries of earlier runs whose runner is dead. */
export async function sweepStaleRegistries(log: (l: string) => void = () => undefined): Promise<void> {
  if (!fs.existsSync(PID_REGISTRY_DIR)) return;
  for (const name of fs.readdirSync(PID_REGISTRY_DIR)) {
    const dir = path.join(PID_REGISTRY_DIR, name);
    if (!fs.statSync(dir).isDirectory()) {
      fs.rmSync(dir, { force: true });
      continue;
    }
    let owner: { pid: number; startTime: string } | undefined;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8"));
    } catch {
      owner = undefined;
    }
    if (owner && alive(owner.pid, owner.startTime)) continue;
    await sweepDir(dir, log);
  }
}

let handlersInstalled = false;
/**
 * On SIGINT/SIGTERM, kill what this process started (then run `andThen`), and exit with the
 * signal's conventional code.
 */
export function installSignalCleanup(andThen: () => Promise<void> = async () => undefined): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (code: number) => {
    killAllTracked()
      .then(andThen)
      .finally(() => process.exit(code));
  };
  process.once("SIGINT", () => onSignal(130));
  process.once("SIGTERM", () => onSignal(143));
}
