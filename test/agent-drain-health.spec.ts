/**
 * Health while draining (README, "Health while draining"): the drain watcher's `drain` record in
 * the health state (agent/src/core/healthState.ts) makes the endpoint answer Initializing, even
 * after the worker unit's ExecStopPost= recorded the drain's stop as final. Pure core, and the
 * watcher in virtual time (testkit/drainSim.ts).
 */
import { strict as assert } from "assert";
import {
  decideHealth,
  drainingRecord,
  HEALTH_STATE_FILES,
  HealthState,
  parseRecord,
  readHealth,
} from "../agent/src/core/healthState";
import type { HealthEnv } from "../agent/src/core/healthState";
import { SIM_BOOT_UPTIME_SECONDS, simulateCancelledRedeploy, simulateDrainWatcher } from "../testkit/drainSim";

const STATE_DIR = "/run/hpc-worker-state";
const STOPPED_BY_DRAIN = parseRecord("stopped since=70 why=stop\n");
const PATHS = { stateDir: STATE_DIR, cgroupRoot: "/sys/fs/cgroup" };

function filesEnv(files: Record<string, string>, alivePids: number[] = []): HealthEnv {
  return {
    readFile: (p) => Promise.resolve(files[p]),
    uptimeSeconds: () => 100,
    processAlive: (pid) => alivePids.indexOf(pid) >= 0,
  };
}

describe("health while draining (the drain record)", () => {
  it("renders one parseable line: draining, since= whole seconds of uptime, the EventId and the EventType", () => {
    const line = drainingRecord(123.9, "5EF4E42B-86CE-B8D8-6FF4-29B04DEF1A80", "Preempt");
    assert.equal(line, "draining since=123 event=5EF4E42B-86CE-B8D8-6FF4-29B04DEF1A80 type=Preempt\n");
    assert.deepEqual(parseRecord(line), {
      phase: "draining",
      fields: { since: "123", event: "5EF4E42B-86CE-B8D8-6FF4-29B04DEF1A80", type: "Preempt" },
    });
    assert.equal(drainingRecord(1, "a b", "").trim(), "draining since=1 event=a_b type=-");
  });

  it("answers Initializing while draining, over the final stop the worker unit's ExecStopPost= recorded", () => {
    const drain = parseRecord(drainingRecord(60, "E1", "Terminate"));
    assert.equal(decideHealth({ worker: STOPPED_BY_DRAIN, uptimeSeconds: 100 }).state, HealthState.Unhealthy);
    const verdict = decideHealth({ worker: STOPPED_BY_DRAIN, drain, uptimeSeconds: 100 });
    assert.deepEqual(verdict, { state: HealthState.Initializing, reason: "draining for Terminate E1 since 60 s" });
  });

  it("answers Initializing while draining even while the worker still runs (before its SIGTERM handler ends)", () => {
    const drain = parseRecord(drainingRecord(60, "E1", "Preempt"));
    const started = parseRecord("started since=5 pid=42 cgroup=- kind=foreground\n");
    assert.equal(decideHealth({ worker: started, workerAlive: true, drain, uptimeSeconds: 100 }).state, "Initializing");
  });

  it("ignores a drain record of another phase: the worker rule decides", () => {
    const drain = parseRecord("paused since=60\n");
    assert.equal(decideHealth({ worker: STOPPED_BY_DRAIN, drain, uptimeSeconds: 100 }).state, HealthState.Unhealthy);
  });

  it("readHealth reads the drain file next to the worker file", async () => {
    const worker = `${STATE_DIR}/${HEALTH_STATE_FILES.worker}`;
    const drain = `${STATE_DIR}/${HEALTH_STATE_FILES.drain}`;
    const stopped = { [worker]: "stopped since=70 why=stop\n" };
    assert.equal((await readHealth(filesEnv(stopped), PATHS)).state, HealthState.Unhealthy);
    const draining = { ...stopped, [drain]: drainingRecord(60, "E1", "Preempt") };
    assert.equal((await readHealth(filesEnv(draining), PATHS)).state, HealthState.Initializing);
  });
});

describe("the drain watcher writes the drain record (virtual time)", () => {
  it("writes it before the SIGTERM and keeps it after the ack of a Preempt (the VM goes)", async () => {
    let id = "";
    const sim = await simulateDrainWatcher(
      (s) => s.at(10_000, () => (id = s.fake.scheduledEvents.schedule("Preempt", { noticeMs: 30_000 }))),
      { untilMs: 60_000, workerExitAfterMs: 4000 },
    );
    const term = sim.worker.signals.findIndex((x) => x.what === "SIGTERM");
    assert.equal(sim.worker.drainMarks.length, 1);
    const [mark] = sim.worker.drainMarks;
    assert.equal(mark.afterSignals, term, "written before the SIGTERM");
    const since = Math.floor(SIM_BOOT_UPTIME_SECONDS + (mark.at - sim.start) / 1000);
    assert.equal(mark.record, `draining since=${since} event=${id} type=Preempt\n`);
    assert.equal(sim.fake.scheduledEvents.acks.length, 1);
  });

  it("removes it before it starts the worker again when the event is cancelled", async () => {
    const sim = await simulateCancelledRedeploy();
    assert.deepEqual(
      sim.worker.signals.map((x) => x.what),
      ["SIGTERM", "start"],
    );
    assert.deepEqual(
      sim.worker.drainMarks.map((m) => [m.record === undefined ? "cleared" : m.record.split(" ")[0], m.afterSignals]),
      [
        ["draining", 0],
        ["cleared", 1],
      ],
    );
  });

  it("writes nothing for another VM's event or a Freeze", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        s.at(1000, () => s.fake.scheduledEvents.schedule("Terminate", { resources: ["workers-vmss_7"] }));
        s.at(2000, () => s.fake.scheduledEvents.schedule("Freeze", {}));
      },
      { untilMs: 30_000 },
    );
    assert.deepEqual(sim.worker.drainMarks, []);
  });
});
