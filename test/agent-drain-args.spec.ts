/**
 * The command lines of the bundle's two other commands, pure: `drain-watcher` and `health-server`.
 * Each flag at its limits and just past them, the defaults the units rely on, and the message that
 * names the flag and what it takes. (The process specs run the built bundle with a few of these.)
 */
import { strict as assert } from "assert";
import { DRAIN_USAGE, parseDrainArgs } from "../agent/src/core/drainArgs";
import {
  DEFAULT_DRAIN_SECONDS,
  DEFAULT_IMDS_URL,
  DEFAULT_SYSTEMCTL,
  DEFAULT_WORKER_UNIT,
  MAX_DRAIN_SECONDS,
} from "../agent/src/core/constants";
import {
  DEFAULT_CGROUP_ROOT,
  DEFAULT_HEALTH_PORT,
  parseHealthArgs,
  routeRequest,
} from "../agent/src/core/healthServer";
import { HEALTH_STATE_DIR } from "../agent/src/core/healthState";

describe("drain-watcher's command line", () => {
  it("runs with the defaults the worker unit and the agent's constants name", () => {
    assert.deepEqual(parseDrainArgs([]), {
      kind: "run",
      options: {
        imdsUrl: "http://169.254.169.254",
        drainSeconds: 25,
        unit: "hpc-worker.service",
        systemctl: "/bin/systemctl",
        stateDir: HEALTH_STATE_DIR,
      },
    });
    assert.deepEqual(
      [DEFAULT_IMDS_URL, DEFAULT_DRAIN_SECONDS, DEFAULT_WORKER_UNIT, DEFAULT_SYSTEMCTL],
      ["http://169.254.169.254", 25, "hpc-worker.service", "/bin/systemctl"],
    );
  });

  it("takes every flag, as --flag value and --flag=value", () => {
    const parsed = parseDrainArgs([
      "--imds-url",
      "http://127.0.0.1:8080/",
      "--drain-seconds= 900 ",
      "--unit=render@1.service",
      "--systemctl",
      "/usr/bin/systemctl",
      "--state-dir=/run/hpc//",
    ]);
    assert.deepEqual(parsed, {
      kind: "run",
      options: {
        imdsUrl: "http://127.0.0.1:8080",
        drainSeconds: 900,
        unit: "render@1.service",
        systemctl: "/usr/bin/systemctl",
        stateDir: "/run/hpc",
      },
    });
    assert.equal((parseDrainArgs(["--state-dir", "/"]) as { options: { stateDir: string } }).options.stateDir, "/");
    assert.equal(
      (parseDrainArgs(["--drain-seconds", "1"]) as { options: { drainSeconds: number } }).options.drainSeconds,
      1,
    );
  });

  const refusals: Array<[string[], string]> = [
    [["--drain-seconds", "0"], `--drain-seconds must be a whole number from 1 to ${MAX_DRAIN_SECONDS} (got "0")`],
    [
      ["--drain-seconds", String(MAX_DRAIN_SECONDS + 1)],
      `--drain-seconds must be a whole number from 1 to 900 (got "901")`,
    ],
    [["--drain-seconds", "1.5"], `--drain-seconds must be a whole number from 1 to 900 (got "1.5")`],
    [["--drain-seconds", "x10"], `--drain-seconds must be a whole number from 1 to 900 (got "x10")`],
    [["--drain-seconds", "10x"], `--drain-seconds must be a whole number from 1 to 900 (got "10x")`],
    [["--unit", "hpc-worker"], `--unit must name a .service unit (got "hpc-worker")`],
    [["--unit", "hpc worker.service"], `--unit must name a .service unit (got "hpc worker.service")`],
    [["--unit", "x/hpc-worker.service"], `--unit must name a .service unit (got "x/hpc-worker.service")`],
    [["--unit", "hpc-worker.service.d"], `--unit must name a .service unit (got "hpc-worker.service.d")`],
    [["--systemctl", "systemctl"], `--systemctl must be an absolute path (got "systemctl")`],
    [["--state-dir", "run/hpc"], `--state-dir must be an absolute path (got "run/hpc")`],
    [
      ["--imds-url", "169.254.169.254"],
      `--imds-url must be an absolute http:// or https:// URL (got "169.254.169.254")`,
    ],
    [["--timeout", "5"], "unknown flag --timeout"],
    [["--unit"], "--unit needs a value"],
  ];
  for (const [argv, message] of refusals) {
    it(`refuses ${argv.join(" ")}: ${message}`, () =>
      assert.deepEqual(parseDrainArgs(argv), { kind: "error", message }));
  }

  it("prints its usage for --help, naming every flag and its default", () => {
    assert.deepEqual(parseDrainArgs(["--unit", "x.service", "--help"]), { kind: "help" });
    assert.equal(
      DRAIN_USAGE,
      `usage: waiter.js drain-watcher [--imds-url URL] [--drain-seconds N (1-900, default 25)] [--unit UNIT (default hpc-worker.service)] [--systemctl PATH] [--state-dir DIR (default ${HEALTH_STATE_DIR})]\n`,
    );
  });
});

describe("health-server's command line and routes", () => {
  it("runs with the defaults the socket unit names", () => {
    assert.deepEqual(parseHealthArgs([]), {
      kind: "run",
      options: { port: DEFAULT_HEALTH_PORT, stateDir: HEALTH_STATE_DIR, cgroupRoot: DEFAULT_CGROUP_ROOT },
    });
    assert.equal(DEFAULT_CGROUP_ROOT, "/sys/fs/cgroup");
  });

  it("takes a port from 1 to 65535 and folders without their trailing slashes", () => {
    assert.deepEqual(parseHealthArgs(["--port", "1", "--state-dir", "/run/h//", "--cgroup-root=/cg/"]), {
      kind: "run",
      options: { port: 1, stateDir: "/run/h", cgroupRoot: "/cg" },
    });
    assert.equal((parseHealthArgs(["--port=65535"]) as { options: { port: number } }).options.port, 65535);
  });

  for (const port of ["0", "65536", "x80", "80x", "123456", "-1"]) {
    it(`refuses --port ${port}`, () =>
      assert.deepEqual(parseHealthArgs(["--port", port]), {
        kind: "error",
        message: `--port must be an integer from 1 to 65535 (got "${port}")`,
      }));
  }

  it("answers only GET and HEAD of its path, whatever the query; anything else says what to try", () => {
    assert.equal(routeRequest("GET", "/health?x=1"), "probe");
    assert.equal(routeRequest("HEAD", "/health"), "probe");
    assert.deepEqual(routeRequest("GET", "/"), {
      status: 404,
      headers: { "Content-Type": "text/plain", "Cache-Control": "no-store" },
      body: "try /health\n",
    });
    assert.equal((routeRequest("GET", undefined) as { status: number }).status, 404);
    assert.deepEqual(routeRequest("POST", "/health"), {
      status: 405,
      headers: { Allow: "GET, HEAD", "Content-Type": "text/plain", "Cache-Control": "no-store" },
      body: "only GET and HEAD\n",
    });
  });
});
