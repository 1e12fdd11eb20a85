/**
 * The health endpoint's verdicts as a table: every record the launcher, the worker unit and the drain
 * watcher write, the answer and the one journal line that says why. Plus the record format's edges.
 */
import { strict as assert } from "assert";
import {
  decideHealth,
  drainingRecord,
  HEALTH_STATE_FILES,
  HealthFacts,
  HealthState,
  parseRecord,
  readHealth,
} from "../agent/src/core/healthState";
import type { HealthEnv } from "../agent/src/core/healthState";

const { Initializing, Healthy, Unhealthy } = HealthState;
const facts = (worker: string | undefined, more: Partial<HealthFacts> = {}): HealthFacts => ({
  worker: parseRecord(worker),
  uptimeSeconds: 100,
  ...more,
});

const VERDICTS: Array<[string, HealthFacts, HealthState, string]> = [
  ["no record", facts(undefined), Initializing, "nothing has run since boot"],
  ["waiting for Node.js", facts("node since=3"), Initializing, "waiting for Node.js"],
  ["the waiter waits", facts("waiting since=5"), Initializing, "the waiter waits for Succeeded"],
  ["a started worker", facts("started pid=9 since=50"), Healthy, "the worker runs"],
  [
    "a foreground worker gone",
    facts("started pid=9", { workerAlive: false }),
    Initializing,
    "the worker exited; restart pending",
  ],
  [
    "a forking worker's processes gone",
    facts("started kind=forking", { workerAlive: false }),
    Unhealthy,
    "the forking worker's processes are gone",
  ],
  [
    "restarting within its deadline",
    facts("restarting why=exit-1 since=90 within=10"),
    Initializing,
    "stopped (exit-1); restarting",
  ],
  [
    "restarting at its deadline",
    facts("restarting why=exit-1 since=90 within=10", { uptimeSeconds: 100 }),
    Initializing,
    "stopped (exit-1); restarting",
  ],
  [
    "restarting past its deadline",
    facts("restarting why=exit-1 since=90 within=10", { uptimeSeconds: 100.5 }),
    Unhealthy,
    "stopped (exit-1), not restarted within 10 s",
  ],
  [
    "restarting with decimal times",
    facts("restarting why=x since=89.25 within=10.5", { uptimeSeconds: 99.8 }),
    Unhealthy,
    "stopped (x), not restarted within 10.5 s",
  ],
  [
    "restarting without a why",
    facts("restarting since=1 within=1"),
    Unhealthy,
    "stopped (unknown), not restarted within 1 s",
  ],
  [
    "restarting with an exponent for a time",
    facts("restarting since=1e1 within=1"),
    Initializing,
    "stopped (unknown); restarting",
  ],
  [
    "restarting with text after a time",
    facts("restarting since=10s within=1"),
    Initializing,
    "stopped (unknown); restarting",
  ],
  [
    "restarting with text before a time",
    facts("restarting since=s10 within=1"),
    Initializing,
    "stopped (unknown); restarting",
  ],
  [
    "restarting with a trailing dot",
    facts("restarting since=10. within=1"),
    Initializing,
    "stopped (unknown); restarting",
  ],
  [
    "restarting with letters after the dot",
    facts("restarting since=10.x within=1"),
    Initializing,
    "stopped (unknown); restarting",
  ],
  ["stopped for good", facts("stopped why=exit-89"), Unhealthy, "stopped for good (exit-89)"],
  ["a phase from a newer writer", facts("paused"), Initializing, 'unknown worker phase "paused"'],
  [
    "a drain, whatever the worker does",
    facts("stopped why=exit-1", { drain: parseRecord(drainingRecord(42, "E-1", "Preempt")) }),
    Initializing,
    "draining for Preempt E-1 since 42 s",
  ],
  [
    "a drain record without fields",
    facts("started pid=1", { drain: parseRecord("draining") }),
    Initializing,
    "draining for an event since ? s",
  ],
  [
    "another phase in the drain file",
    facts("started pid=1", { drain: parseRecord("done") }),
    Healthy,
    "the worker runs",
  ],
];

describe("the health endpoint's verdicts", () => {
  for (const [title, input, state, reason] of VERDICTS) {
    it(`${title}: ${state}, "${reason}"`, () => assert.deepEqual(decideHealth(input), { state, reason }));
  }

  it("reads a record from the first line only, and only key=value words with a key", () => {
    assert.deepEqual(parseRecord("restarting why=a =b c since=1\nwithin=5"), {
      phase: "restarting",
      fields: { why: "a", since: "1" },
    });
    assert.equal(parseRecord("  "), undefined);
    assert.equal(parseRecord("Started pid=1"), undefined);
  });

  it("does not look for a live worker while a drain runs, and does when none does", async () => {
    const files: Record<string, string> = {
      [`/s/${HEALTH_STATE_FILES.worker}`]: "started pid=7",
      [`/s/${HEALTH_STATE_FILES.drain}`]: "draining event=E type=Reboot since=1",
    };
    const asked: number[] = [];
    const env: HealthEnv = {
      readFile: async (p) => files[p],
      uptimeSeconds: () => 10,
      processAlive: (pid) => (asked.push(pid), false),
    };
    const paths = { stateDir: "/s", cgroupRoot: "/cg" };
    assert.equal((await readHealth(env, paths)).state, Initializing);
    assert.deepEqual(asked, []);
    delete files[`/s/${HEALTH_STATE_FILES.drain}`];
    assert.deepEqual(await readHealth(env, paths), {
      state: Initializing,
      reason: "the worker exited; restart pending",
    });
    assert.deepEqual(asked, [7]);
  });

  it("never reads a cgroup path that climbs out of the cgroup root", async () => {
    const reads: string[] = [];
    const env: HealthEnv = {
      readFile: async (p) => (
        reads.push(p),
        p.endsWith("/worker") ? "started kind=forking cgroup=/a/../../etc" : undefined
      ),
      uptimeSeconds: () => 10,
      processAlive: () => false,
    };
    assert.equal((await readHealth(env, { stateDir: "/s", cgroupRoot: "/cg" })).state, Healthy);
    assert.deepEqual(reads, ["/s/drain", "/s/worker"]);
  });
});
