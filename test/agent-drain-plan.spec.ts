/** The drain watcher's pure parts: the Scheduled Events document, the notice left, the plan per event. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { DRAIN_SAFETY_MARGIN_MS, planEvent, STARTED_GRACE_MS } from "../agent/src/core/drainPlan";
import { noticeLeftMs, parseEventsDocument } from "../agent/src/core/scheduledEvents";
import type { ScheduledEvent } from "../agent/src/core/scheduledEvents";

const FIXTURES = path.join(__dirname, "..", "testkit", "fake-azure", "fixtures");
const fixture = (file: string) => fs.readFileSync(path.join(FIXTURES, file), "utf8");
const ME = "workers-vmss_3";
const DRAIN = 25_000;

function event(over: Partial<ScheduledEvent> = {}): ScheduledEvent {
  return {
    id: "602D9444-D2CD-49C7-8624-8643E7171297",
    type: "Preempt",
    status: "Scheduled",
    resources: [ME],
    notBefore: "Wed, 01 Jan 2025 00:00:30 GMT",
    source: "Platform",
    ...over,
  };
}

describe("the Scheduled Events document", () => {
  it('reads the doc\'s live-migration sequence: incarnations 1-4, one Freeze naming two VMs, then Started with NotBefore ""', () => {
    const docs = (JSON.parse(fixture("scheduled-events-2020-07-01__LiveMigrationFreeze.json")) as unknown[]).map((d) =>
      parseEventsDocument(JSON.stringify(d)),
    );
    assert.deepEqual(
      docs.map((d) => d!.incarnation),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      docs.map((d) => d!.events.length),
      [0, 1, 1, 0],
    );
    assert.deepEqual(docs[1]!.events[0], {
      id: "C7061BAC-AFDC-4513-B24B-AA5F13A16123",
      type: "Freeze",
      status: "Scheduled",
      resources: ["WestNO_0", "WestNO_1"],
      notBefore: "Mon, 11 Apr 2026 22:26:58 GMT",
      source: "Platform",
    });
    assert.equal(docs[2]!.events[0].status, "Started");
    assert.equal(docs[2]!.events[0].notBefore, "");
  });

  it("reads the Spot doc's Preempt, whose api-version has no DurationInSeconds", () => {
    const doc = parseEventsDocument(fixture("scheduled-events-2019-08-01__SpotPreempt.json"))!;
    assert.equal(doc.events.length, 1);
    assert.equal(doc.events[0].type, "Preempt");
    assert.deepEqual(doc.events[0].resources, ["myspotvm"]);
  });

  it("keeps the answer's Date header as a second opinion on the time", () => {
    const doc = parseEventsDocument('{"DocumentIncarnation":1,"Events":[]}', { date: "Wed, 01 Jan 2025 00:00:10 GMT" });
    assert.equal(doc!.serverMs, Date.UTC(2025, 0, 1, 0, 0, 10));
  });

  it("refuses a body that is not a document, so the IMDS client retries it", () => {
    for (const body of ["<html>502</html>", "{}", '{"Events":{}}', '{"Events":[{"EventId":1}]}', "null"]) {
      assert.equal(parseEventsDocument(body), undefined, body);
    }
  });
});

describe("the notice left before NotBefore", () => {
  const now = Date.UTC(2025, 0, 1, 0, 0, 0);

  it("reads RFC 1123 with a wrong weekday (the doc's own example) and the mock server's ISO form", () => {
    assert.equal(noticeLeftMs("Mon, 01 Jan 2025 00:00:30 GMT", now), 30_000);
    assert.equal(noticeLeftMs("2025-01-01T00:00:30Z", now), 30_000);
  });

  it("is 0 once started, unreadable or past", () => {
    assert.equal(noticeLeftMs("", now), 0);
    assert.equal(noticeLeftMs("soon", now), 0);
    assert.equal(noticeLeftMs("Wed, 01 Jan 2025 00:00:00 GMT", now + 5000), 0);
  });

  it("takes the Date header's reading when the VM's clock is late, never a longer one", () => {
    const notBefore = "Wed, 01 Jan 2025 00:00:30 GMT";
    assert.equal(noticeLeftMs(notBefore, now - 10_000, now), 30_000);
    assert.equal(noticeLeftMs(notBefore, now, now - 10_000), 30_000);
  });
});

describe("what the watcher does about one event (planEvent)", () => {
  const plan = (over: Partial<ScheduledEvent>, notice = 30_000, drain = DRAIN) =>
    planEvent(event(over), ME, drain, notice);

  it("drains now for a Preempt of this VM, within the notice less the safety margin, then acknowledges", () => {
    assert.deepEqual(
      { ...plan({}, 20_000), why: undefined },
      { kind: "drain", startInMs: 0, budgetMs: 20_000 - DRAIN_SAFETY_MARGIN_MS, ack: true, why: undefined },
    );
  });

  it("gives a Terminate with 5 minutes of notice the whole drain time", () => {
    const p = plan({ type: "Terminate" }, 300_000);
    assert.equal(p.kind === "drain" && p.budgetMs, DRAIN);
    assert.equal(p.kind === "drain" && p.startInMs, 0);
  });

  it("ignores another VM's event, whatever its type", () => {
    for (const type of ["Preempt", "Terminate", "Reboot", "Redeploy", "Freeze", "OSUpgrade"]) {
      const p = plan({ type, resources: ["workers-vmss_7"] });
      assert.equal(p.kind, "none", type);
      assert.match(p.why, /not this VM/);
    }
  });

  it("matches this VM's name in any case (Azure resource names are case-insensitive)", () => {
    assert.equal(plan({ resources: ["WORKERS-VMSS_3"] }).kind, "drain");
  });

  it("does nothing for a Freeze of this VM and never acknowledges it", () => {
    assert.deepEqual(plan({ type: "Freeze" }, 900_000).kind, "none");
  });

  it("drains for a Reboot or Redeploy so that it ends by NotBefore, then acknowledges", () => {
    for (const type of ["Reboot", "Redeploy"]) {
      const p = plan({ type }, 900_000);
      assert.equal(p.kind === "drain" && p.startInMs, 900_000 - DRAIN_SAFETY_MARGIN_MS - DRAIN, type);
      assert.equal(p.kind === "drain" && p.ack, true, type);
    }
  });

  it("drains at once for a Reboot the user asked for, so the user does not wait out the notice", () => {
    const p = plan({ type: "Reboot", source: "User" }, 900_000);
    assert.equal(p.kind === "drain" && p.startInMs, 0);
    assert.equal(p.kind === "drain" && p.ack, true);
  });

  it("drains for an event naming this VM and another, but never acknowledges it (that would speed it up for both)", () => {
    for (const type of ["Preempt", "Terminate", "Reboot", "Redeploy"]) {
      const p = plan({ type, resources: ["workers-vmss_7", ME] }, 900_000);
      assert.equal(p.kind === "drain" && p.ack, false, type);
      assert.match(p.why, /no ack: it names other VMs too/);
    }
  });

  it("treats a type it does not know like a Reboot, without acknowledging it", () => {
    const p = plan({ type: "OSUpgrade" }, 900_000);
    assert.equal(p.kind === "drain" && p.startInMs, 900_000 - DRAIN_SAFETY_MARGIN_MS - DRAIN);
    assert.equal(p.kind === "drain" && p.ack, false);
  });

  it("gives a Reboot that has already started (a hardware failure) a short grace and no acknowledgement", () => {
    const p = plan({ type: "Reboot", status: "Started", notBefore: "" }, 0);
    assert.deepEqual(
      { ...p, why: undefined },
      { kind: "drain", startInMs: 0, budgetMs: STARTED_GRACE_MS, ack: false, why: undefined },
    );
  });

  it("never gives more than the notice allows: a Preempt seen with 2 s left is killed at once", () => {
    const p = plan({}, 2000);
    assert.equal(p.kind === "drain" && p.budgetMs, 0);
  });

  const whys: Array<[string, Partial<ScheduledEvent>, number, string]> = [
    ["a Preempt with its notice", {}, 30_000, "this VM is deleted: drain now, SIGKILL after 25.0 s at most, then ack"],
    [
      "a Reboot that has started",
      { type: "Reboot", status: "Started" },
      30_000,
      "this VM restarts, memory is lost: drain now, SIGKILL after 5.0 s at most, no ack: it has started",
    ],
    [
      "a Reboot without a NotBefore (a hardware failure)",
      { type: "Reboot", notBefore: "" },
      0,
      "this VM restarts, memory is lost: drain now, SIGKILL after 5.0 s at most, no ack: it has started",
    ],
    [
      "a platform Redeploy with a long notice",
      { type: "Redeploy" },
      60_000,
      "this VM restarts, memory is lost: drain in 32.0 s, SIGKILL after 25.0 s at most, then ack",
    ],
    [
      "a Reboot naming another VM too",
      { type: "Reboot", source: "User", resources: [ME, "workers-vmss_9"] },
      60_000,
      "this VM restarts, memory is lost: drain now, SIGKILL after 25.0 s at most, no ack: it names other VMs too",
    ],
    [
      "a type this watcher does not know",
      { type: "Hibernate" },
      60_000,
      "unknown type: drain in 32.0 s, SIGKILL after 25.0 s at most, no ack: its impact is unknown",
    ],
  ];
  for (const [title, over, noticeMs, why] of whys) {
    it(`says why for ${title}: "${why}"`, () => {
      const p = planEvent(event(over), ME, 25_000, noticeMs);
      assert.equal(p.why, why);
    });
  }
});
