/**
 * The health endpoint's pure core: the state contract (records, phases, liveness, the restart
 * deadline on a fake clock), the health-server flags, the route and the exact answers.
 */
import { strict as assert } from "assert";
import {
  decideHealth,
  HEALTH_STATE_DIR,
  HEALTH_STATE_FILES,
  HealthState,
  parseRecord,
  readHealth,
  WorkerPhase,
} from "../agent/src/core/healthState";
import type { HealthEnv, HealthPaths } from "../agent/src/core/healthState";
import {
  DEFAULT_CGROUP_ROOT,
  DEFAULT_HEALTH_PORT,
  HEALTH_PATH,
  healthBody,
  inheritedSocketFd,
  parseHealthArgs,
  probeReply,
  routeRequest,
} from "../agent/src/core/healthServer";

const PATHS: HealthPaths = { stateDir: "/run/state", cgroupRoot: "/cg" };
const CGROUP = "/system.slice/hpc-worker.service";

/** A machine with files, live pids and a boot clock the test moves. */
function fakeMachine(files: Record<string, string>, livePids: number[] = []) {
  const reads: string[] = [];
  const machine: { uptime: number; reads: string[]; env: HealthEnv } = {
    uptime: 100,
    reads,
    env: {
      readFile: async (path: string) => {
        reads.push(path);
        return files[path];
      },
      uptimeSeconds: () => machine.uptime,
      processAlive: (pid: number) => livePids.indexOf(pid) >= 0,
    },
  };
  return machine;
}

const workerFile = `${PATHS.stateDir}/${HEALTH_STATE_FILES.worker}`;
const drainFile = `${PATHS.stateDir}/${HEALTH_STATE_FILES.drain}`;
const eventsFile = `${PATHS.cgroupRoot}${CGROUP}/cgroup.events`;

async function answer(record: string | undefined, extra: Record<string, string> = {}, pids: number[] = []) {
  const files: Record<string, string> = { ...extra };
  if (record !== undefined) files[workerFile] = record;
  return readHealth(fakeMachine(files, pids).env, PATHS);
}

describe("agent health core: the state contract", () => {
  it("parses a record: the phase, then key=value fields; anything else is no record", () => {
    assert.deepEqual(parseRecord("started since=12 pid=345 cgroup=/a/b kind=forking\nignored second line"), {
      phase: "started",
      fields: { since: "12", pid: "345", cgroup: "/a/b", kind: "forking" },
    });
    assert.deepEqual(parseRecord("  waiting   since=3  \n"), { phase: "waiting", fields: { since: "3" } });
    assert.deepEqual(parseRecord("stopped why=a=b junk"), { phase: "stopped", fields: { why: "a=b" } });
    for (const text of [undefined, "", "\n", "since=3 waiting", "Started", "9 lives"]) {
      assert.equal(parseRecord(text), undefined, JSON.stringify(text));
    }
  });

  it("answers Initializing when nothing has run since boot (no file: a reboot emptied /run)", async () => {
    assert.equal(HEALTH_STATE_DIR.indexOf("/run/"), 0);
    assert.deepEqual(await answer(undefined), {
      state: HealthState.Initializing,
      reason: "nothing has run since boot",
    });
    assert.equal((await answer("")).state, HealthState.Initializing);
  });

  it("answers Initializing while Node.js is awaited and while the waiter waits", async () => {
    assert.equal((await answer("node since=5")).state, HealthState.Initializing);
    assert.equal((await answer("waiting since=9")).state, HealthState.Initializing);
  });

  it("answers Healthy while a started foreground worker's pid lives, Initializing once it is gone (the unit decides)", async () => {
    const record = `started since=20 pid=4242 cgroup=${CGROUP} kind=foreground`;
    assert.equal((await answer(record, {}, [4242])).state, HealthState.Healthy);
    // The pid decides for a foreground worker, even while leftovers keep the cgroup populated.
    const gone = await answer(record, { [eventsFile]: "populated 1\nfrozen 0\n" }, []);
    assert.deepEqual(gone, {
      state: HealthState.Initializing,
      reason: "the worker exited; restart pending",
    });
  });

  it("answers for a forking worker from its cgroup: Healthy while populated, Unhealthy once empty", async () => {
    const record = `started since=20 pid=4242 cgroup=${CGROUP} kind=forking`;
    // The pid is the command that forked and exited: it does not count.
    assert.equal((await answer(record, { [eventsFile]: "populated 1\nfrozen 0\n" }, [])).state, HealthState.Healthy);
    const empty = await answer(record, { [eventsFile]: "populated 0\nfrozen 0\n" }, [4242]);
    assert.equal(empty.state, HealthState.Unhealthy);
    assert.match(empty.reason, /forking worker's processes are gone/);
  });

  it("trusts a started record when liveness cannot be observed (no cgroup v2, no pid)", async () => {
    assert.equal((await answer(`started since=1 cgroup=${CGROUP} kind=forking`)).state, HealthState.Healthy);
    assert.equal((await answer("started since=1 cgroup=- kind=foreground")).state, HealthState.Healthy);
    // A foreground record without a pid falls back to the cgroup.
    const empty = await answer(`started since=1 cgroup=${CGROUP} kind=foreground`, { [eventsFile]: "populated 0\n" });
    assert.equal(empty.state, HealthState.Initializing);
  });

  it("reads only the cgroup named, never outside the cgroup root", async () => {
    const machine = fakeMachine({ [workerFile]: "started since=1 cgroup=/../../etc kind=forking" });
    assert.equal((await readHealth(machine.env, PATHS)).state, HealthState.Healthy);
    assert.deepEqual(machine.reads, [drainFile, workerFile]);
  });

  it("reads the drain and worker files, and the cgroup only for a started worker: at most three small reads a probe", async () => {
    const waiting = fakeMachine({ [workerFile]: "waiting since=1" });
    await readHealth(waiting.env, PATHS);
    assert.deepEqual(waiting.reads, [drainFile, workerFile]);
    const forking = fakeMachine({ [workerFile]: `started since=1 cgroup=${CGROUP} kind=forking` });
    await readHealth(forking.env, PATHS);
    assert.deepEqual(forking.reads, [drainFile, workerFile, eventsFile]);
  });

  it("answers Initializing for a restarting worker until its deadline, then Unhealthy (fake clock)", async () => {
    const machine = fakeMachine({ [workerFile]: "restarting since=1000 why=exit-status-1 within=370" });
    machine.uptime = 1000;
    assert.deepEqual(await readHealth(machine.env, PATHS), {
      state: HealthState.Initializing,
      reason: "stopped (exit-status-1); restarting",
    });
    machine.uptime = 1370;
    assert.equal((await readHealth(machine.env, PATHS)).state, HealthState.Initializing);
    machine.uptime = 1370.5;
    assert.deepEqual(await readHealth(machine.env, PATHS), {
      state: HealthState.Unhealthy,
      reason: "stopped (exit-status-1), not restarted within 370 s",
    });
  });

  it("keeps a restarting worker Initializing when its record has no usable deadline", () => {
    for (const record of ["restarting why=x", "restarting since=1 within=soon", "restarting within=5"]) {
      assert.equal(
        decideHealth({ worker: parseRecord(record), uptimeSeconds: 1e9 }).state,
        HealthState.Initializing,
        record,
      );
    }
  });

  it("answers Unhealthy once the worker stopped for good, naming why", async () => {
    for (const why of ["gone", "failed", "timeout", "usage", "refused", "node-unavailable", "exited-0"]) {
      assert.deepEqual(await answer(`stopped since=7 why=${why}`), {
        state: HealthState.Unhealthy,
        reason: `stopped for good (${why})`,
      });
    }
  });

  it("answers Initializing, and says so, for a phase it does not know (a newer writer is no reason for a repair)", async () => {
    assert.deepEqual(await answer("hibernating since=1"), {
      state: HealthState.Initializing,
      reason: 'unknown worker phase "hibernating"',
    });
  });

  it("names every phase of the contract once", () => {
    assert.deepEqual(Object.values(WorkerPhase), ["node", "waiting", "started", "restarting", "stopped"]);
  });
});

describe("agent health core: flags, route and answers", () => {
  it("parses health-server flags with defaults", () => {
    assert.deepEqual(parseHealthArgs([]), {
      kind: "run",
      options: { port: DEFAULT_HEALTH_PORT, stateDir: HEALTH_STATE_DIR, cgroupRoot: DEFAULT_CGROUP_ROOT },
    });
    assert.deepEqual(parseHealthArgs(["--port", "8081", "--state-dir=/tmp/s/", "--cgroup-root", "/cg"]), {
      kind: "run",
      options: { port: 8081, stateDir: "/tmp/s", cgroupRoot: "/cg" },
    });
    assert.deepEqual(parseHealthArgs(["--help"]), { kind: "help" });
  });

  it("refuses bad health-server flags, naming the flag and what it takes", () => {
    const cases: Array<[string[], string]> = [
      [["--port", "0"], '--port must be an integer from 1 to 65535 (got "0")'],
      [["--port", "65536"], '--port must be an integer from 1 to 65535 (got "65536")'],
      [["--port", "80a"], '--port must be an integer from 1 to 65535 (got "80a")'],
      [["--port"], "--port needs a value"],
      [["--state-dir", "run/x"], '--state-dir must be an absolute path (got "run/x")'],
      [["--cgroup-root", "cg"], '--cgroup-root must be an absolute path (got "cg")'],
      [["--timeout", "5"], "unknown flag --timeout"],
      [["serve"], 'unexpected argument "serve" (only flags are taken)'],
    ];
    for (const [argv, message] of cases) assert.deepEqual(parseHealthArgs(argv), { kind: "error", message });
  });

  it("takes systemd's socket only when LISTEN_FDS is 1 and LISTEN_PID is this process", () => {
    assert.equal(inheritedSocketFd({ LISTEN_FDS: "1", LISTEN_PID: "42" }, 42), 3);
    assert.equal(inheritedSocketFd({ LISTEN_FDS: "1", LISTEN_PID: "41" }, 42), undefined);
    assert.equal(inheritedSocketFd({ LISTEN_FDS: "2", LISTEN_PID: "42" }, 42), undefined);
    assert.equal(inheritedSocketFd({}, 42), undefined);
  });

  it("answers a probe with 200 and exactly the extension's body, JSON, never cached", () => {
    for (const state of Object.values(HealthState)) {
      assert.deepEqual(probeReply(state), {
        status: 200,
        headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
        body: `{"ApplicationHealthState":"${state}"}`,
      });
      assert.deepEqual(JSON.parse(healthBody(state)), { ApplicationHealthState: state });
    }
  });

  it("routes GET and HEAD of the health path (any query) to the probe, and refuses the rest without a redirect", () => {
    assert.equal(HEALTH_PATH, "/health");
    for (const [method, url] of [
      ["GET", "/health"],
      ["HEAD", "/health"],
      ["GET", "/health?probe=1"],
    ]) {
      assert.equal(routeRequest(method, url), "probe", `${method} ${url}`);
    }
    for (const url of ["/", "/health/", "/Health", "/healthz", "//health", undefined]) {
      const reply = routeRequest("GET", url);
      assert.notEqual(reply, "probe");
      assert.equal((reply as { status: number }).status, 404, String(url));
    }
    const post = routeRequest("POST", "/health");
    assert.notEqual(post, "probe");
    assert.equal((post as { status: number }).status, 405);
    assert.equal((post as { headers: Record<string, string> }).headers.Allow, "GET, HEAD");
  });
});
