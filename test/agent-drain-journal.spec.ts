/**
 * The drain watcher's journal, line by line, in virtual time: what an operator reads in
 * `journalctl -u hpc-worker-drain` to know which event was seen, what was decided and why, when the
 * worker got SIGTERM and how it ended, and whether the acknowledgement reached IMDS.
 */
import { strict as assert } from "assert";
import { DrainSim, simulateCancelledRedeploy, simulateDrainWatcher } from "../testkit/drainSim";
import { faults } from "../testkit/fake-azure";

/** The log with each event's random id replaced by E1, E2, … in order of appearance. */
function journal(sim: DrainSim): string[] {
  const ids = new Map<string, string>();
  return sim.logs.map((line) =>
    line.replace(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/g, (id) => {
      if (!ids.has(id)) ids.set(id, `E${ids.size + 1}`);
      return ids.get(id)!;
    }),
  );
}

function assertJournal(actual: string[], expected: Array<string | RegExp>) {
  assert.equal(actual.length, expected.length, actual.join("\n"));
  expected.forEach((line, i) =>
    typeof line === "string" ? assert.equal(actual[i], line) : assert.match(actual[i], line, actual.join("\n")),
  );
}

const START = [
  "[0.0] draining hpc-worker.service for Scheduled Events, at most 25 s",
  "[0.0] this VM is workers-vmss_0",
  "[0.0] Scheduled Events answered after 0.0 s",
];

describe("the drain watcher's journal", () => {
  it("a Preempt: the decision, SIGTERM, the worker's exit, a failed ack retried, the ack, the event Started", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        s.at(10_000, () => s.fake.scheduledEvents.schedule("Preempt", { noticeMs: 30_000 }));
        s.at(10_500, () => s.fake.fail("scheduledEvents", faults.serverError(), 1));
      },
      { untilMs: 60_000, workerExitAfterMs: 4000 },
    );
    assertJournal(journal(sim), [
      ...START,
      "[10.0] event E1 Preempt Scheduled by Platform for [workers-vmss_0], NotBefore Wed, 01 Jan 2025 00:00:40 GMT (30.0 s away): this VM is deleted: drain now, SIGKILL after 25.0 s at most, then ack",
      "[10.0] event E1: SIGTERM to the worker",
      "[14.5] event E1: the worker stopped 4.5 s after SIGTERM",
      /^\[14\.5\] event E1: ack got IMDS 500 InternalServerError ".*", 25\.5 s before NotBefore; retrying in 1\.[0-9] s$/,
      /^\[15\.[0-9]\] event E1: acknowledged, 24\.[0-9] s before NotBefore$/,
      /^\[15\.[0-9]\] event E1 is now Started$/,
    ]);
  });

  it("a Redeploy cancelled after the drain: a drain timed to NotBefore, then the worker started again", async () => {
    const sim = await simulateCancelledRedeploy();
    assertJournal(journal(sim), [
      ...START,
      "[1.0] event E1 Redeploy Scheduled by Platform for [workers-vmss_0], NotBefore Wed, 01 Jan 2025 00:00:41 GMT (40.0 s away): this VM restarts, memory is lost: drain in 12.0 s, SIGKILL after 25.0 s at most, then ack",
      "[13.0] event E1: SIGTERM to the worker",
      "[15.0] event E1: the worker stopped 2.0 s after SIGTERM",
      "[15.1] event E1: acknowledged, 25.9 s before NotBefore",
      "[15.1] event E1 is now Started",
      "[39.1] event E1 is gone",
      "[39.1] the events drained for are gone: starting the worker again",
    ]);
  });

  it("a Terminate after a slow first call, with a worker that ignores SIGTERM: SIGKILL at the drain time", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        s.fake.scheduledEvents.enableDelayMs = 3000;
        s.at(5000, () => s.fake.scheduledEvents.schedule("Terminate", { noticeMs: 300_000 }));
      },
      { untilMs: 120_000, drainSeconds: 40, workerExitAfterMs: null },
    );
    assertJournal(journal(sim), [
      "[0.0] draining hpc-worker.service for Scheduled Events, at most 40 s",
      "[0.0] this VM is workers-vmss_0",
      "[3.0] Scheduled Events answered after 3.0 s",
      "[5.1] event E1 Terminate Scheduled by Platform for [workers-vmss_0], NotBefore Wed, 01 Jan 2025 00:05:05 GMT (299.9 s away): this VM is deleted: drain now, SIGKILL after 40.0 s at most, then ack",
      "[5.1] event E1: SIGTERM to the worker",
      "[45.1] event E1: the worker got SIGKILL 40.0 s after SIGTERM",
      "[45.1] event E1: acknowledged, 259.9 s before NotBefore",
      "[45.1] event E1 is now Started",
    ]);
  });

  it("a Freeze: one line that says nothing is done and nothing acknowledged", async () => {
    const sim = await simulateDrainWatcher(
      (s) => s.at(1000, () => s.fake.scheduledEvents.schedule("Freeze", { noticeMs: 15_000 })),
      { untilMs: 30_000 },
    );
    const lines = journal(sim).slice(START.length);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      /^\[1\.0\] event E1 Freeze Scheduled by Platform for \[workers-vmss_0\], NotBefore .*: a pause keeps memory and files: nothing to do, no ack$/,
    );
  });

  it("a cancelled event leaves a worker that was not running stopped, and says nothing of starting it", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        let id = "";
        s.at(1000, () => (id = s.fake.scheduledEvents.schedule("Terminate", { noticeMs: 300_000 })));
        s.at(20_000, () => s.fake.scheduledEvents.remove(id));
      },
      { untilMs: 30_000, workerRunning: false },
    );
    assert.deepEqual(
      sim.worker.signals.map((x) => x.what),
      ["SIGTERM"],
    );
    const lines = journal(sim);
    assert.equal(lines[lines.length - 1], "[20.0] event E1 is gone");
    assert.deepEqual(
      sim.worker.drainMarks.map((m) => m.record === undefined),
      [false, true],
      "the drain record is cleared all the same",
    );
  });
});
