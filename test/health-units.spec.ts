/**
 * The writers of the health state and the endpoint's start script, run on this machine: what the
 * launcher records at each phase, what the worker unit's ExecStopPost= records for each way the
 * unit can stop (systemd's $SERVICE_RESULT, $EXIT_CODE, $EXIT_STATUS), and the python3 responder
 * that answers on systemd's socket while the VM has no Node.js. Each record is fed to the
 * agent's decideHealth, so the two halves of the contract are tested together.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { decideHealth, HealthState, parseRecord } from "../agent/src/core/healthState";
import { WorkerKind } from "../components";
import { renderHealthServerScript, renderStopRecorder, restartRecordWithinSeconds } from "../components/healthUnits";
import { renderLauncher } from "../components/launcher";
import { runLauncher, tempDir } from "../testkit/vmScripts";
import { freePort } from "../testkit/ports";

const launcher = (workerKind?: WorkerKind, installNodejs = false) =>
  renderLauncher({ keptFile: false, installNodejs, workerKind });

/** The answer a record gives, `uptime` seconds after boot, with the worker's liveness as observed. */
function answer(record: string, uptime = 100, workerAlive?: boolean): HealthState {
  return decideHealth({ worker: parseRecord(record), uptimeSeconds: uptime, workerAlive }).state;
}

describe("health state writers: the launcher", () => {
  it("records waiting while the waiter runs, then started with its pid, cgroup and kind just before the exec", () => {
    const run = runLauncher(launcher(), Buffer.from("w"));
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.health.atWaiter, /^waiting since=\d+\n$/);
    assert.match(run.health.atEnd, /^started since=\d+ pid=\d+ cgroup=\S+ kind=foreground\n$/);
    assert.equal(answer(run.health.atWaiter), HealthState.Initializing);
    assert.equal(answer(run.health.atEnd, 100, true), HealthState.Healthy);
  });

  it("records kind=forking for a forking worker, whose liveness is its cgroup", () => {
    const run = runLauncher(launcher(WorkerKind.Forking), Buffer.from("w"));
    assert.match(run.health.atEnd, /^started since=\d+ pid=\d+ cgroup=\S+ kind=forking\n$/);
    assert.equal(answer(run.health.atEnd, 100, false), HealthState.Unhealthy);
  });

  it("leaves node as the record when there is no usable Node.js (ExecStopPost then records the final stop)", () => {
    const run = runLauncher(launcher(), Buffer.from("w"), { node: "/nonexistent/node" });
    assert.equal(run.status, 89);
    assert.match(run.health.atEnd, /^node since=\d+\n$/);
    assert.equal(run.health.atWaiter, "", "the waiter never ran");
    assert.equal(answer(run.health.atEnd), HealthState.Initializing);
  });

  it("leaves waiting as the record when the waiter gives a final answer (ExecStopPost then records it)", () => {
    const run = runLauncher(launcher(), Buffer.from("w"), { waiterExit: 3 });
    assert.equal(run.status, 93);
    assert.match(run.health.atEnd, /^waiting since=\d+\n$/);
  });
});

describe("health state writers: the worker unit's ExecStopPost=", () => {
  const within = restartRecordWithinSeconds();

  function stop(env: { SERVICE_RESULT: string; EXIT_CODE: string; EXIT_STATUS: string }): string {
    const dir = tempDir("hpc-stop-");
    try {
      const state = path.join(dir, "worker");
      const script = path.join(dir, "record-stop");
      const text = renderStopRecorder({ restartWithinSeconds: within });
      assert.match(text, /^HEALTH_STATE=.*$/m);
      fs.writeFileSync(script, text.replace(/^HEALTH_STATE=.*$/m, `HEALTH_STATE=${state}`), { mode: 0o755 });
      const run = spawnSync(script, [], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      return fs.readFileSync(state, "utf8");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const cases: Array<
    [string, { SERVICE_RESULT: string; EXIT_CODE: string; EXIT_STATUS: string }, RegExp, HealthState]
  > = [
    [
      "the waiter's gone (93)",
      { SERVICE_RESULT: "exit-code", EXIT_CODE: "exited", EXIT_STATUS: "93" },
      /^stopped since=\d+ why=gone\n$/,
      HealthState.Unhealthy,
    ],
    [
      "the waiter's timeout (95)",
      { SERVICE_RESULT: "exit-code", EXIT_CODE: "exited", EXIT_STATUS: "95" },
      /^stopped since=\d+ why=timeout\n$/,
      HealthState.Unhealthy,
    ],
    [
      "no usable Node.js (89)",
      { SERVICE_RESULT: "exit-code", EXIT_CODE: "exited", EXIT_STATUS: "89" },
      /^stopped since=\d+ why=no-usable-node\n$/,
      HealthState.Unhealthy,
    ],
    [
      "a stop (SIGTERM, a clean result)",
      { SERVICE_RESULT: "success", EXIT_CODE: "killed", EXIT_STATUS: "TERM" },
      /^stopped since=\d+ why=killed-TERM\n$/,
      HealthState.Unhealthy,
    ],
    [
      "a clean exit 0",
      { SERVICE_RESULT: "success", EXIT_CODE: "exited", EXIT_STATUS: "0" },
      /^stopped since=\d+ why=exited-0\n$/,
      HealthState.Unhealthy,
    ],
    [
      "a worker failing with 1",
      { SERVICE_RESULT: "exit-code", EXIT_CODE: "exited", EXIT_STATUS: "1" },
      new RegExp(`^restarting since=\\d+ why=exited-1 within=${within}\\n$`),
      HealthState.Initializing,
    ],
    [
      "a worker killed by SIGKILL",
      { SERVICE_RESULT: "signal", EXIT_CODE: "killed", EXIT_STATUS: "KILL" },
      new RegExp(`^restarting since=\\d+ why=killed-KILL within=${within}\\n$`),
      HealthState.Initializing,
    ],
    [
      "the waiter's crash (91, restartable)",
      { SERVICE_RESULT: "exit-code", EXIT_CODE: "exited", EXIT_STATUS: "91" },
      /^restarting since=\d+ why=exited-91 /,
      HealthState.Initializing,
    ],
  ];
  for (const [what, env, record, state] of cases) {
    it(`records ${what} so that the endpoint answers ${state}`, () => {
      const text = stop(env);
      assert.match(text, record);
      const since = Number(/since=(\d+)/.exec(text)![1]);
      assert.equal(answer(text, since + 1), state);
    });
  }

  it("a restarting record turns Unhealthy once the restart is overdue (the unit was stopped while it waited)", () => {
    const text = stop({ SERVICE_RESULT: "exit-code", EXIT_CODE: "exited", EXIT_STATUS: "1" });
    const since = Number(/since=(\d+)/.exec(text)![1]);
    assert.equal(answer(text, since + within), HealthState.Initializing);
    assert.equal(answer(text, since + within + 1), HealthState.Unhealthy);
  });
});

function probe(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "localhost", port, path: "/health", agent: false, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode || 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("probe timed out")));
    req.on("error", reject);
  });
}

describe("the health endpoint's start script without Node.js: the python3 responder on systemd's socket", function () {
  this.timeout(30000);
  let dir: string;
  let child: ChildProcess | undefined;
  let port: number;

  before(async () => {
    dir = tempDir("hpc-health-");
    port = await freePort();
    const script = path.join(dir, "health");
    const text = renderHealthServerScript({ port })
      .replace(/^NODE=node$/m, `NODE=${path.join(dir, "node")}`)
      .replace(/^STATE=.*$/m, `STATE=${path.join(dir, "worker")}`);
    fs.writeFileSync(script, text, { mode: 0o755 });
    // systemd's socket activation as the .socket unit does it: the bound socket as fd 3, LISTEN_FDS=1.
    child = spawn("systemd-socket-activate", ["--listen", `127.0.0.1:${port}`, script], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 500));
  });

  after(() => {
    // systemd-socket-activate execs the script, which execs python3: one process, this pid.
    if (child && child.exitCode === null) child.kill("SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers Initializing while the worker has not stopped for good, exactly the extension's body", async () => {
    assert.deepEqual(await probe(port), { status: 200, body: '{"ApplicationHealthState":"Initializing"}' });
    fs.writeFileSync(path.join(dir, "worker"), "node since=12\n");
    assert.deepEqual(await probe(port), { status: 200, body: '{"ApplicationHealthState":"Initializing"}' });
  });

  it("answers Unhealthy once the unit stopped for good with no usable Node.js (89)", async () => {
    fs.writeFileSync(path.join(dir, "worker"), "stopped since=70 why=no-usable-node\n");
    assert.deepEqual(await probe(port), { status: 200, body: '{"ApplicationHealthState":"Unhealthy"}' });
  });

  it("exits after the first probe once node exists, so systemd restarts the service into the bundle's server", async () => {
    fs.writeFileSync(path.join(dir, "node"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    assert.equal((await probe(port)).status, 200);
    const exited = await new Promise<number | null>((resolve) => {
      if (child!.exitCode !== null) return resolve(child!.exitCode);
      child!.on("exit", (code) => resolve(code));
    });
    assert.equal(exited, 0);
    child = undefined;
  });
});
