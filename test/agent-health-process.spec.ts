/**
 * The BUILT bundle's health endpoint (node agent/dist/waiter.js health-server) as a real
 * process: the exact bytes a probe gets, the state read at each request, loopback only, its
 * flags and exit codes, and one journal line per change. The decisions themselves are tested
 * on the pure core (agent-health.spec.ts).
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { HEALTH_EXIT_CODES } from "../agent/src/core/healthServer";
import { HEALTH_STATE_FILES } from "../agent/src/core/healthState";
import { BUNDLE, ensureBundle, runWaiterProcess, startHealthServer } from "../testkit/fake-azure/agentProcess";
import type { HealthServerProcess } from "../testkit/fake-azure/agentProcess";
import { freePort } from "../testkit/ports";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, urlPath = "/health", method = "GET", host = "127.0.0.1"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: urlPath, method, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode || 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Local addresses listening on `port`, from the kernel's tables (hex, as /proc/net/tcp{,6} print them). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A is LISTEN.
      if (cols[1] && cols[1].endsWith(`:${hexPort}`) && cols[3] === "0A") found.push(cols[1]);
    }
  }
  return found;
}

describe("agent health process (built bundle: waiter.js health-server)", function () {
  this.timeout(30000);
  let dir: string;
  let stateDir: string;
  let cgroupRoot: string;
  let port: number;
  let server: HealthServerProcess;
  const write = (record: string) => fs.writeFileSync(path.join(stateDir, HEALTH_STATE_FILES.worker), record);

  before(async () => {
    ensureBundle();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "health-"));
    stateDir = path.join(dir, "state");
    cgroupRoot = path.join(dir, "cgroup");
    fs.mkdirSync(stateDir);
    fs.mkdirSync(path.join(cgroupRoot, "system.slice", "hpc-worker.service"), { recursive: true });
    port = await freePort();
    server = startHealthServer(["--port", String(port), "--state-dir", stateDir, "--cgroup-root", cgroupRoot]);
    await server.ready;
  });

  after(async () => {
    if (server) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers Initializing with 200, application/json and exactly the extension's body while nothing has run", async () => {
    const a = await get(port);
    assert.equal(a.status, 200);
    assert.equal(a.headers["content-type"], "application/json");
    assert.equal(a.headers["content-length"], String(a.body.length));
    assert.equal(a.headers["location"], undefined);
    assert.equal(a.body, '{"ApplicationHealthState":"Initializing"}');
  });

  it("reads the state at each request: waiting, started (its pid alive), stopped", async () => {
    write("waiting since=1\n");
    assert.equal((await get(port)).body, '{"ApplicationHealthState":"Initializing"}');
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      write(`started since=2 pid=${sleeper.pid} cgroup=/system.slice/hpc-worker.service kind=foreground\n`);
      assert.equal((await get(port)).body, '{"ApplicationHealthState":"Healthy"}');
    } finally {
      sleeper.kill("SIGKILL");
      await new Promise((resolve) => sleeper.on("exit", resolve));
    }
    // Its pid is gone and no stop was recorded yet: the unit has not decided.
    assert.equal((await get(port)).body, '{"ApplicationHealthState":"Initializing"}');
    write("stopped since=3 why=gone\n");
    assert.equal((await get(port)).body, '{"ApplicationHealthState":"Unhealthy"}');
  });

  it("answers a forking worker from its cgroup.events under --cgroup-root", async () => {
    const events = path.join(cgroupRoot, "system.slice", "hpc-worker.service", "cgroup.events");
    write("started since=2 pid=1 cgroup=/system.slice/hpc-worker.service kind=forking\n");
    fs.writeFileSync(events, "populated 1\nfrozen 0\n");
    assert.equal((await get(port)).body, '{"ApplicationHealthState":"Healthy"}');
    fs.writeFileSync(events, "populated 0\nfrozen 0\n");
    assert.equal((await get(port)).body, '{"ApplicationHealthState":"Unhealthy"}');
  });

  it("answers HEAD without a body, other paths 404 and other methods 405, never a redirect", async () => {
    write("stopped since=3 why=gone\n");
    const head = await get(port, "/health", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.equal(head.headers["content-length"], String('{"ApplicationHealthState":"Unhealthy"}'.length));
    assert.equal((await get(port, "/health?x=1")).body, '{"ApplicationHealthState":"Unhealthy"}');
    for (const p of ["/health/", "/", "/healthz"]) {
      const a = await get(port, p);
      assert.equal(a.status, 404, p);
      assert.equal(a.headers["location"], undefined);
    }
    const post = await get(port, "/health", "POST");
    assert.equal(post.status, 405);
    assert.equal(post.headers["allow"], "GET, HEAD");
  });

  it("listens on 127.0.0.1 only", async () => {
    assert.deepEqual(listeners(port), [`0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`]);
    await assert.rejects(get(port, "/health", "GET", "::1"), /ECONNREFUSED|EADDRNOTAVAIL/);
  });

  it("logs each change of answer once, with its reason, and nothing per probe", async () => {
    write("waiting since=1\n");
    const before = server.log().split("\n").length;
    for (let i = 0; i < 5; i++) await get(port);
    write("stopped since=3 why=timeout\n");
    for (let i = 0; i < 5; i++) await get(port);
    const lines = server
      .log()
      .split("\n")
      .slice(before - 1, -1);
    assert.deepEqual(lines, [
      "health-server: Initializing: the waiter waits for Succeeded",
      "health-server: Unhealthy: stopped for good (timeout)",
    ]);
  });

  it("serves on the listening socket systemd passes (LISTEN_FDS=1, LISTEN_PID its own), ignoring --port", async () => {
    const socket = net.createServer();
    await new Promise<void>((resolve) => socket.listen(0, "127.0.0.1", resolve));
    const passedPort = (socket.address() as net.AddressInfo).port;
    const fd: number = (socket as unknown as { _handle: { fd: number } })._handle.fd;
    // As systemd does: LISTEN_PID is the pid that execs the server, the socket is fd 3.
    const child = spawn(
      "/bin/sh",
      [
        "-c",
        'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"',
        process.execPath,
        BUNDLE,
        "health-server",
        "--port",
        "1",
        "--state-dir",
        stateDir,
      ],
      { stdio: ["ignore", "ignore", "pipe", fd] },
    );
    let log = "";
    child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    try {
      // The parent lets go of its copy, so only the child accepts.
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      write("waiting since=1\n");
      let answer: Answer | undefined;
      for (let i = 0; i < 100 && !answer; i++) {
        answer = await get(passedPort).catch(() => undefined);
        if (!answer) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(answer && answer.body, '{"ApplicationHealthState":"Initializing"}');
      assert.match(log, new RegExp(`serving http://127\\.0\\.0\\.1:${passedPort}/health \\(systemd's fd 3\\)`));
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.on("exit", resolve));
    }
  });

  it("exits 2 on a bad flag with the usage, and 75 naming the address when the port is taken", async () => {
    const [bad, help, waiterHelp] = await Promise.all([
      runWaiterProcess(["health-server", "--port", "99999"]),
      runWaiterProcess(["health-server", "--help"]),
      runWaiterProcess(["--help"]),
    ]);
    assert.equal(bad.code, HEALTH_EXIT_CODES.usage);
    assert.match(bad.stderr, /^health-server: --port must be an integer from 1 to 65535 \(got "99999"\)\nusage: /);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--state-dir DIR/);
    assert.match(waiterHelp.stdout, /health-server --help/);
    const taken = startHealthServer(["--port", String(port), "--state-dir", stateDir]);
    assert.equal(await taken.exited, HEALTH_EXIT_CODES.cannotListen);
    assert.match(taken.log(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
  });
});
