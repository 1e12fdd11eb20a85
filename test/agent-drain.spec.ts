/** The drain watcher's core in virtual time, against FakeAzure's Scheduled Events (testkit/drainSim.ts). */
import { strict as assert } from "assert";
import {
  IMDS_REQUEST_TIMEOUT_MS,
  SCHEDULED_EVENTS_DISABLED_AFTER_MS,
  SCHEDULED_EVENTS_ENABLE_TIMEOUT_MS,
} from "../agent/src/core/constants";
import { DRAIN_SAFETY_MARGIN_MS, STARTED_GRACE_MS } from "../agent/src/core/drainPlan";
import { DrainSim, simulateCancelledRedeploy, simulateDrainWatcher } from "../testkit/drainSim";
import { faults } from "../testkit/fake-azure";

const OTHER = "workers-vmss_7";

/** Scheduled Events calls (GET and POST), with their virtual time since the start. */
function seCalls(sim: DrainSim, method?: string) {
  return sim.fake
    .callsTo("scheduledEvents")
    .filter((c) => !method || c.method === method)
    .map((c) => ({ ...c, t: c.at - sim.start }));
}

describe("the drain watcher (virtual time)", () => {
  it("drains on a Preempt with 30 s notice: SIGTERM within about a second, the worker's exit, then the ack before NotBefore", async () => {
    let id = "";
    let scheduledAt = 0;
    const sim = await simulateDrainWatcher(
      (s) =>
        s.at(10_000, () => {
          scheduledAt = s.clock.t;
          id = s.fake.scheduledEvents.schedule("Preempt", { noticeMs: 30_000 });
        }),
      { untilMs: 60_000, workerExitAfterMs: 4000 },
    );
    const term = sim.worker.sent("SIGTERM");
    assert.equal(term.length, 1);
    assert.ok(term[0].at - scheduledAt <= 1100, `SIGTERM ${term[0].at - scheduledAt} ms after the event appeared`);
    assert.equal(sim.worker.sent("SIGKILL").length, 0);
    const acks = sim.fake.scheduledEvents.acks;
    assert.deepEqual(
      acks.map((a) => [a.eventIds, a.status]),
      [[[id], 200]],
    );
    assert.ok(acks[0].at >= sim.worker.exitedAt!, "acknowledged only after the worker was out");
    assert.ok(acks[0].at < sim.fake.scheduledEvents.notBeforeOf(id)!, "acknowledged before NotBefore");
    assert.equal(sim.logs.filter((l) => l.includes(`event ${id} Preempt Scheduled`)).length, 1, "one decision line");
  });

  it("sends SIGKILL to a worker that ignores SIGTERM the safety margin before NotBefore when the drain time is longer, then acknowledges", async () => {
    let id = "";
    const sim = await simulateDrainWatcher(
      (s) => s.at(5000, () => (id = s.fake.scheduledEvents.schedule("Preempt", { noticeMs: 30_000 }))),
      { untilMs: 60_000, drainSeconds: 120, workerExitAfterMs: null },
    );
    const notBefore = sim.fake.scheduledEvents.notBeforeOf(id)!;
    const kill = sim.worker.sent("SIGKILL");
    assert.equal(kill.length, 1);
    assert.ok(
      notBefore - kill[0].at >= DRAIN_SAFETY_MARGIN_MS - 50,
      `SIGKILL ${notBefore - kill[0].at} ms before NotBefore`,
    );
    assert.ok(notBefore - kill[0].at <= DRAIN_SAFETY_MARGIN_MS + 1100);
    assert.ok(sim.fake.scheduledEvents.ackedAt(id)! < notBefore);
  });

  it("gives a Terminate with 5 minutes of notice exactly the drain time before SIGKILL", async () => {
    const sim = await simulateDrainWatcher(
      (s) => s.at(3000, () => s.fake.scheduledEvents.schedule("Terminate", { noticeMs: 300_000 })),
      { untilMs: 120_000, drainSeconds: 40, workerExitAfterMs: null },
    );
    const [term] = sim.worker.sent("SIGTERM");
    const [kill] = sim.worker.sent("SIGKILL");
    assert.ok(Math.abs(kill.at - term.at - 40_000) <= 600, `${kill.at - term.at} ms between SIGTERM and SIGKILL`);
    assert.equal(sim.fake.scheduledEvents.acks.length, 1);
  });

  it("leaves another VM's Terminate alone: no signal, no ack, one log line", async () => {
    let id = "";
    const sim = await simulateDrainWatcher(
      (s) =>
        s.at(
          2000,
          () => (id = s.fake.scheduledEvents.schedule("Terminate", { resources: [OTHER], noticeMs: 300_000 })),
        ),
      { untilMs: 400_000 },
    );
    assert.deepEqual(sim.worker.signals, []);
    assert.deepEqual(sim.fake.scheduledEvents.acks, []);
    assert.equal(sim.logs.filter((l) => l.includes(id)).length, 1);
    assert.match(
      sim.logs.find((l) => l.includes(id))!,
      /not this VM \(workers-vmss_0\): ignored/,
    );
  });

  it("does nothing for a Freeze of this VM and its neighbour (the doc's live migration), and acknowledges nothing", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        let id = "";
        s.at(2000, () => (id = s.fake.scheduledEvents.schedule("Freeze", { resources: ["workers-vmss_0", OTHER] })));
        s.at(60_000, () => s.fake.scheduledEvents.start(id));
        s.at(70_000, () => s.fake.scheduledEvents.remove(id));
      },
      { untilMs: 80_000 },
    );
    assert.deepEqual(sim.worker.signals, []);
    assert.deepEqual(sim.fake.scheduledEvents.acks, []);
  });

  it("drains for a platform Reboot at the last moment, so the SIGKILL deadline lands on NotBefore less the margin", async () => {
    let id = "";
    const sim = await simulateDrainWatcher(
      (s) => s.at(1000, () => (id = s.fake.scheduledEvents.schedule("Reboot", { noticeMs: 900_000 }))),
      { untilMs: 950_000, drainSeconds: 25, workerExitAfterMs: 1000 },
    );
    const notBefore = sim.fake.scheduledEvents.notBeforeOf(id)!;
    const [term] = sim.worker.sent("SIGTERM");
    const lead = notBefore - term.at;
    assert.ok(lead >= 25_000 + DRAIN_SAFETY_MARGIN_MS - 1100 && lead <= 25_000 + DRAIN_SAFETY_MARGIN_MS, `${lead} ms`);
    assert.ok(sim.fake.scheduledEvents.ackedAt(id)! < notBefore);
  });

  it("drains for a multi-VM Reboot but never acknowledges it", async () => {
    const sim = await simulateDrainWatcher(
      (s) =>
        s.at(1000, () =>
          s.fake.scheduledEvents.schedule("Reboot", { resources: [OTHER, "workers-vmss_0"], noticeMs: 60_000 }),
        ),
      { untilMs: 90_000 },
    );
    assert.equal(sim.worker.sent("SIGTERM").length, 1);
    assert.deepEqual(sim.fake.scheduledEvents.acks, []);
  });

  it("answers a hardware-failure Reboot (Started, no notice) with SIGTERM at once, SIGKILL after the grace, no ack", async () => {
    const sim = await simulateDrainWatcher(
      (s) => s.at(1000, () => s.fake.scheduledEvents.schedule("Reboot", { status: "Started" })),
      { untilMs: 20_000, workerExitAfterMs: null },
    );
    const [term] = sim.worker.sent("SIGTERM");
    const [kill] = sim.worker.sent("SIGKILL");
    assert.ok(Math.abs(kill.at - term.at - STARTED_GRACE_MS) <= 600);
    assert.deepEqual(sim.fake.scheduledEvents.acks, []);
  });

  it("starts the worker again when the event it was drained for is cancelled while the VM runs", async () => {
    const sim = await simulateCancelledRedeploy();
    assert.deepEqual(
      sim.worker.signals.map((x) => x.what),
      ["SIGTERM", "start"],
    );
  });

  it("tracks events by EventId: an incarnation reset that lists the same event again changes nothing", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        s.at(1000, () => s.fake.scheduledEvents.schedule("Terminate", { noticeMs: 300_000 }));
        s.at(20_000, () => s.fake.scheduledEvents.resetIncarnation(1));
      },
      { untilMs: 40_000 },
    );
    assert.equal(sim.worker.sent("SIGTERM").length, 1);
    assert.equal(sim.fake.scheduledEvents.acks.length, 1);
    assert.equal(sim.logs.filter((l) => / Terminate Scheduled /.test(l)).length, 1);
  });

  it("waits out the slow first call (up to 2 minutes) with one request, then polls once a second with the short timeout", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        s.fake.scheduledEvents.enableDelayMs = 110_000;
      },
      { untilMs: 180_000 },
    );
    const gets = sim.requests.filter((r) => r.url.includes("/metadata/scheduledevents"));
    assert.equal(gets[0].timeoutMs, SCHEDULED_EVENTS_ENABLE_TIMEOUT_MS);
    assert.ok(gets[1].at - gets[0].at >= 110_000, "the second GET came only after the first was answered");
    assert.ok(gets.slice(1).every((r) => r.timeoutMs === IMDS_REQUEST_TIMEOUT_MS));
    assert.ok(gets.length >= 65 && gets.length <= 71, `${gets.length} GETs in the 70 s after enabling`);
  });

  it("never makes more than one Scheduled Events GET a second, and keeps polling through IMDS 410 and 429", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        s.at(10_000, () => s.fake.failFor("scheduledEvents", faults.imdsGone(), 30_000));
        s.at(50_000, () => s.fake.fail("scheduledEvents", faults.imdsThrottled(), 5));
      },
      { untilMs: 120_000 },
    );
    const gets = seCalls(sim, "GET");
    for (let i = 1; i < gets.length; i++) {
      const gap = gets[i].t - gets[i - 1].t;
      assert.ok(gap >= 990, `two GETs ${gap} ms apart at ${gets[i].t} ms`);
      assert.ok(gap <= 5000 + 1000 + 100, `a ${gap} ms silence at ${gets[i].t} ms: back-offs stay ≤ 5 s`);
    }
    assert.ok(gets.filter((c) => c.t > 90_000).every((c) => c.status === 200));
  });

  it("calls the service far more often than once a day, even through the longest drain", async () => {
    const sim = await simulateDrainWatcher(
      (s) => s.at(1000, () => s.fake.scheduledEvents.schedule("Terminate", { noticeMs: 900_000 })),
      { untilMs: 1_000_000, drainSeconds: 900, workerExitAfterMs: null },
    );
    const calls = seCalls(sim);
    const longest = Math.max(...calls.slice(1).map((c, i) => c.t - calls[i].t));
    assert.ok(longest <= 900_000, `longest silence ${longest} ms`);
    assert.ok(longest < SCHEDULED_EVENTS_DISABLED_AFTER_MS);
  });

  it("retries a failed acknowledgement until IMDS takes it, before NotBefore", async () => {
    let id = "";
    const sim = await simulateDrainWatcher(
      (s) => {
        s.at(1000, () => (id = s.fake.scheduledEvents.schedule("Preempt", { noticeMs: 30_000 })));
        // During the drain: the next Scheduled Events calls are the acknowledgement's.
        s.at(1500, () => s.fake.fail("scheduledEvents", faults.serverError(), 2));
      },
      { untilMs: 40_000, workerExitAfterMs: 1000 },
    );
    const posts = seCalls(sim, "POST");
    assert.deepEqual(
      posts.map((c) => c.status),
      [500, 500, 200],
    );
    assert.ok(sim.fake.scheduledEvents.ackedAt(id)! < sim.fake.scheduledEvents.notBeforeOf(id)!);
  });

  it("gives up an acknowledgement that IMDS calls malformed (400): one POST", async () => {
    const sim = await simulateDrainWatcher(
      (s) => {
        s.at(1000, () => s.fake.scheduledEvents.schedule("Terminate", { noticeMs: 300_000 }));
        s.at(1500, () => s.fake.fail("scheduledEvents", faults.status(400, '{"error":"Bad request"}'), 1));
      },
      { untilMs: 60_000, workerExitAfterMs: 1000 },
    );
    assert.deepEqual(
      seCalls(sim, "POST").map((c) => c.status),
      [400],
    );
  });
});
