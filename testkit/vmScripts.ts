/**
 * Runs the shell scripts the component ships to the VM (the launcher, the Node.js installer) on
 * this machine, with their path variables pointed at stubs and stub commands first on PATH, so
 * their decisions can be tested without a VM, a package mirror or real sleeps.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes executable stub commands (name → /bin/sh body) into `dir`. */
function writeStubs(dir: string, stubs: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(stubs)) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
}

/** Swaps `NAME=...` lines at the top of a script; fails loudly if one moved. */
function patchVariables(text: string, values: Record<string, string>): string {
  let patched = text;
  for (const [name, value] of Object.entries(values)) {
    const pattern = new RegExp(`^${name}=.*$`, "m");
    assert.match(patched, pattern, `the script's ${name}= line moved; update the stubs`);
    patched = patched.replace(pattern, `${name}=${value}`);
  }
  return patched;
}

/** A `node` that reports `version` and runs real node otherwise (or refuses every -e, when too old). */
export function nodeStub(version: string, runs = true): string {
  return `if [ "$1" = --version ]; then echo ${version}; exit 0; fi\n${runs ? 'exec node "$@"' : "exit 1"}`;
}

export interface LauncherRun {
  status: number | null;
  stderr: string;
  /** What the stub worker shell received, when it ran. */
  argv?: { count: string; flag: string; command: Buffer; notifySocket: string };
  /** The waiter's arguments (JSON), or "" when it did not run. */
  waiterArgs: string;
  /** Each `sleep` the launcher asked for, in seconds. */
  sleeps: number[];
  /** Each `systemd-notify` argument list. */
  notified: string[];
  /** The health state file (components/healthRecord.ts) when the waiter ran, and when the launcher ended. */
  health: { atWaiter: string; atEnd: string };
}

export interface LauncherRunOptions {
  waiterExit?: number;
  runtimeDir?: string;
  /** Stub commands (systemctl, …) put first on PATH; `sleep` is always a recording stub. */
  stubs?: Record<string, string>;
  /** Where `node` is; default the real one. A stub may create it later (see NODE_PATH_ENV). */
  node?: string;
  env?: Record<string, string>;
}

/** Stubs see the launcher's `node` path here, so one can install it mid-run. */
export const NODE_PATH_ENV = "STUB_NODE";

/** Runs the rendered launcher with a stub waiter and a stub worker shell that record what they got. */
export function runLauncher(launcherText: string, commandBytes: Buffer, opts: LauncherRunOptions = {}): LauncherRun {
  const dir = tempDir("hpc-launch-");
  try {
    const bin = path.join(dir, "bin");
    const out = path.join(dir, "argv");
    writeStubs(bin, {
      sleep: `echo "$1" >> "${out}.sleeps"`,
      "systemd-notify": `echo "$*" >> "${out}.notified"`,
      ...opts.stubs,
    });
    const stubShell = path.join(dir, "shell");
    fs.writeFileSync(
      stubShell,
      `#!/bin/sh\nprintf '%s' "$#" > "$ARGV_OUT.count"\nprintf '%s' "$1" > "$ARGV_OUT.1"\nprintf '%s' "$2" > "$ARGV_OUT.2"\n` +
        `printf '%s' "\${NOTIFY_SOCKET:-}" > "$ARGV_OUT.notify"\n`,
      { mode: 0o755 },
    );
    const stubWaiter = path.join(dir, "waiter.js");
    const healthState = path.join(dir, "health-state");
    fs.writeFileSync(
      stubWaiter,
      `const fs = require("fs"); fs.writeFileSync(process.env.ARGV_OUT + ".waiter", JSON.stringify(process.argv.slice(2)));\n` +
        `try { fs.copyFileSync(${JSON.stringify(healthState)}, process.env.ARGV_OUT + ".health"); } catch (e) {}\n` +
        `process.exit(${opts.waiterExit ?? 0});\n`,
    );
    const commandFile = path.join(dir, "worker-command");
    fs.writeFileSync(commandFile, commandBytes);
    const launcher = path.join(dir, "launch");
    const node = opts.node ?? "node";
    fs.writeFileSync(
      launcher,
      patchVariables(launcherText, {
        NODE: node,
        WAITER: stubWaiter,
        WORKER_COMMAND_FILE: commandFile,
        WORKER_SHELL: stubShell,
        HEALTH_STATE: healthState,
      }),
      { mode: 0o755 },
    );
    const run = spawnSync(launcher, [], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        ARGV_OUT: out,
        RUNTIME_DIRECTORY: opts.runtimeDir ?? dir,
        [NODE_PATH_ENV]: node,
        ...opts.env,
      },
      encoding: "utf8",
    });
    const read = (suffix: string) => (fs.existsSync(out + suffix) ? fs.readFileSync(out + suffix, "utf8") : "");
    const lines = (suffix: string) => read(suffix).split("\n").filter(Boolean);
    const argv = fs.existsSync(`${out}.count`)
      ? {
          count: read(".count"),
          flag: read(".1"),
          command: fs.readFileSync(`${out}.2`),
          notifySocket: read(".notify"),
        }
      : undefined;
    return {
      status: run.status,
      stderr: run.stderr,
      argv,
      waiterArgs: read(".waiter"),
      sleeps: lines(".sleeps").map(Number),
      notified: lines(".notified"),
      health: {
        atWaiter: read(".health"),
        atEnd: fs.existsSync(healthState) ? fs.readFileSync(healthState, "utf8") : "",
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One apt-get invocation's scripted outcome: exit status, output, and the seconds it takes. */
export interface AptOutcome {
  exit: number;
  output?: string;
  seconds?: number;
}

export interface InstallerRun {
  status: number | null;
  /** The installer's stdout lines: its journal. */
  lines: string[];
  stderr: string;
  /** Each apt-get (and dpkg) argument list, in order. */
  calls: string[];
  sleeps: number[];
}

/**
 * Runs the rendered installer against a scripted apt-get: each invocation takes the next outcome
 * of `plan` (and the run fails if the plan runs out). A successful `install` creates `node`.
 * The clock is fake: /proc/uptime is a file that `sleep` and each outcome's `seconds` advance.
 */
export function runInstaller(
  installerText: string,
  plan: AptOutcome[],
  opts: { nodeExists?: boolean } = {},
): InstallerRun {
  const dir = tempDir("hpc-install-");
  try {
    const bin = path.join(dir, "bin");
    const node = path.join(dir, "node");
    const uptime = path.join(dir, "uptime");
    const log = path.join(dir, "calls");
    const sleeps = path.join(dir, "sleeps");
    fs.writeFileSync(uptime, "100.25 50.00\n");
    if (opts.nodeExists) writeStubs(dir, { node: nodeStub("v18.19.0") });
    plan.forEach((step, i) => {
      fs.writeFileSync(path.join(dir, `step-${i + 1}`), step.output ?? "");
      fs.writeFileSync(path.join(dir, `step-${i + 1}.meta`), `${step.exit} ${step.seconds ?? 0}\n`);
    });
    // What a successful `apt-get install` leaves behind.
    writeStubs(path.join(dir, "pending"), { node: nodeStub("v18.19.0") });
    const advance = `advance() { read -r up idle < "${uptime}"; echo "$((\${up%%.*} + $1)).25 $idle" > "${uptime}"; }`;
    writeStubs(bin, {
      sleep: `echo "$1" >> "${sleeps}"\n${advance}\nadvance "$1"`,
      dpkg: `echo "dpkg $*" >> "${log}"`,
      "apt-get": [
        advance,
        `echo "apt-get $*" >> "${log}"`,
        `case " $* " in *" install "*) install=1 ;; *) install=0 ;; esac`,
        `n=$(grep -c '^apt-get' "${log}")`,
        `step="${dir}/step-$n"`,
        `[ -f "$step.meta" ] || { echo "the plan has no apt-get call #$n" >&2; exit 99; }`,
        `read -r code seconds < "$step.meta"`,
        `cat "$step"`,
        `advance "$seconds"`,
        `if [ "$code" = 0 ] && [ "$install" = 1 ]; then cp "${dir}/pending/node" "${node}"; fi`,
        `exit "$code"`,
      ].join("\n"),
    });
    const script = path.join(dir, "install-node");
    fs.writeFileSync(script, patchVariables(installerText, { NODE: node, UPTIME_FILE: uptime }), { mode: 0o755 });
    const run = spawnSync(script, [], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: "utf8",
    });
    const lines = (file: string) =>
      fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : ([] as string[]);
    return {
      status: run.status,
      lines: run.stdout.split("\n").filter(Boolean),
      stderr: run.stderr,
      calls: lines(log),
      sleeps: lines(sleeps).map(Number),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
