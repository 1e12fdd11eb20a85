/** FakeAzure's Scheduled Events against the documentation's examples and rules (testkit/fake-azure/scheduledEvents.ts). */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FakeAzure } from "../testkit/fake-azure";
import { VirtualClock } from "../testkit/fake-azure/virtualEnv";

const FIXTURES = path.join(__dirname, "..", "testkit", "fake-azure", "fixtures");
const URL_ = "/metadata/scheduledevents?api-version=2020-07-01";

function get(fake: FakeAzure) {
  const a = fake.handle({ method: "GET", url: URL_, headers: { Metadata: "true" } });
  assert.equal(a.kind, "respond");
  return a.kind === "respond" ? { ...a, json: JSON.parse(a.body) } : undefined!;
}

function post(fake: FakeAzure, body: string) {
  const a = fake.handle({ method: "POST", url: URL_, headers: { Metadata: "true" }, body });
  return a.kind === "respond" ? a.status : 0;
}

describe("FakeAzure Scheduled Events", () => {
  it("replays the doc's live-migration example byte for byte (field order included)", () => {
    const fake = new FakeAzure({ clock: new VirtualClock().now });
    const expected = JSON.parse(
      fs.readFileSync(path.join(FIXTURES, "scheduled-events-2020-07-01__LiveMigrationFreeze.json"), "utf8"),
    );
    const docs = [get(fake).json];
    const id = fake.scheduledEvents.schedule("Freeze", {
      eventId: "C7061BAC-AFDC-4513-B24B-AA5F13A16123",
      resources: ["WestNO_0", "WestNO_1"],
      notBefore: "Mon, 11 Apr 2026 22:26:58 GMT",
      durationInSeconds: 5,
    });
    docs.push(get(fake).json);
    fake.scheduledEvents.start(id);
    docs.push(get(fake).json);
    fake.scheduledEvents.remove(id);
    docs.push(get(fake).json);
    assert.equal(JSON.stringify(docs), JSON.stringify(expected));
  });

  it("serves the Spot doc's Preempt shape with durationInSeconds null (api-versions before 2020-07-01)", () => {
    const clock = new VirtualClock(Date.UTC(2021, 2, 16, 0, 58, 16));
    const fake = new FakeAzure({ clock: clock.now });
    const expected = JSON.parse(
      fs.readFileSync(path.join(FIXTURES, "scheduled-events-2019-08-01__SpotPreempt.json"), "utf8"),
    );
    fake.scheduledEvents.resetIncarnation(0);
    fake.scheduledEvents.schedule("Preempt", {
      eventId: "A123BC45-1234-5678-AB90-ABCDEF123456",
      resources: ["myspotvm"],
      durationInSeconds: null,
    });
    assert.equal(JSON.stringify(get(fake).json), JSON.stringify(expected));
  });

  it("names this VM as IMDS compute/name does: {scale-set-name}_{instance-id}, the default notice per type", () => {
    const clock = new VirtualClock();
    const fake = new FakeAzure({ clock: clock.now });
    const name = fake.handle({
      method: "GET",
      url: "/metadata/instance/compute/name?api-version=2021-02-01&format=text",
      headers: { Metadata: "true" },
    });
    assert.equal(name.kind === "respond" && name.body, "workers-vmss_0");
    fake.scheduledEvents.schedule("Terminate");
    const e = get(fake).json.Events[0];
    assert.deepEqual(e.Resources, ["workers-vmss_0"]);
    assert.equal(Date.parse(e.NotBefore) - clock.t, 5 * 60_000);
  });

  it("answers the first GET only after the enabling delay, and later ones at once", () => {
    const clock = new VirtualClock();
    const fake = new FakeAzure({ clock: clock.now });
    fake.scheduledEvents.enableDelayMs = 100_000;
    assert.equal(get(fake).delayMs, 100_000);
    clock.t += 40_000;
    assert.equal(get(fake).delayMs, 60_000);
    clock.t += 60_000;
    assert.equal(get(fake).delayMs, undefined);
  });

  it("takes an acknowledgement of a current event (200, recorded with its time), moves it to Started, refuses a malformed one (400)", () => {
    const clock = new VirtualClock();
    const fake = new FakeAzure({ clock: clock.now });
    const id = fake.scheduledEvents.schedule("Preempt", { noticeMs: 30_000 });
    const before = get(fake).json.DocumentIncarnation;
    clock.t += 7000;
    assert.equal(post(fake, JSON.stringify({ StartRequests: [{ EventId: id }] })), 200);
    assert.equal(fake.scheduledEvents.ackedAt(id), clock.t);
    const after = get(fake).json;
    assert.equal(after.DocumentIncarnation, before + 1);
    assert.equal(after.Events[0].EventStatus, "Started");
    assert.equal(after.Events[0].NotBefore, "");
    assert.equal(post(fake, JSON.stringify({ StartRequests: [{ EventId: id }] })), 200, "already approved: still 200");
    assert.equal(post(fake, "{not json"), 400);
    assert.equal(
      post(fake, JSON.stringify({ StartRequests: [{ EventId: "00000000-0000-0000-0000-000000000000" }] })),
      400,
    );
    assert.deepEqual(
      fake.scheduledEvents.acks.map((a) => a.status),
      [200, 200, 400, 400],
    );
  });

  it("starts an event by itself at NotBefore, as the platform approves it then", () => {
    const clock = new VirtualClock();
    const fake = new FakeAzure({ clock: clock.now });
    fake.scheduledEvents.schedule("Reboot", { noticeMs: 60_000 });
    clock.t += 59_000;
    assert.equal(get(fake).json.Events[0].EventStatus, "Scheduled");
    clock.t += 1000;
    assert.equal(get(fake).json.Events[0].EventStatus, "Started");
  });

  it("checks the Metadata header and the method like the rest of IMDS", () => {
    const fake = new FakeAzure({ clock: new VirtualClock().now });
    const noHeader = fake.handle({ method: "GET", url: URL_, headers: {} });
    assert.equal(noHeader.kind === "respond" && noHeader.status, 400);
    const put = fake.handle({ method: "PUT", url: URL_, headers: { Metadata: "true" } });
    assert.equal(put.kind === "respond" && put.status, 405);
  });

  it("serves the doc's Scheduled Events versions only: an instance-endpoint version is a bad request", () => {
    const fake = new FakeAzure({ clock: new VirtualClock().now });
    const get = (version: string) =>
      fake.handle({
        method: "GET",
        url: `/metadata/scheduledevents?api-version=${version}`,
        headers: { Metadata: "true" },
      });
    const old = get("2017-11-01");
    assert.equal(old.kind === "respond" && old.status, 200);
    const instanceOnly = get("2021-02-01");
    assert.equal(instanceOnly.kind === "respond" && instanceOnly.status, 400);
  });

  it("can be driven over HTTP: an event for a given resource with a given notice, then the acknowledgements", async () => {
    const fake = new FakeAzure();
    const url = await fake.listen(0, "127.0.0.1");
    try {
      const scheduled = await fetch(`${url}/_fake/scheduled-events`, {
        method: "POST",
        body: JSON.stringify({ type: "Terminate", resources: ["workers-vmss_7"], noticeSeconds: 300 }),
      });
      const { eventId } = (await scheduled.json()) as { eventId: string };
      const doc: any = await (await fetch(`${url}${URL_}`, { headers: { Metadata: "true" } })).json();
      assert.equal(doc.Events[0].EventId, eventId);
      assert.deepEqual(doc.Events[0].Resources, ["workers-vmss_7"]);
      const notBefore = Date.parse(doc.Events[0].NotBefore);
      assert.ok(Math.abs(notBefore - Date.now() - 300_000) <= 2000);
      const ack = await fetch(`${url}${URL_}`, {
        method: "POST",
        headers: { Metadata: "true" },
        body: JSON.stringify({ StartRequests: [{ EventId: eventId }] }),
      });
      assert.equal(ack.status, 200);
      const state: any = await (await fetch(`${url}/_fake/scheduled-events`)).json();
      assert.deepEqual(
        state.acks.map((a: { eventIds: string[]; status: number }) => [a.eventIds, a.status]),
        [[[eventId], 200]],
      );
      assert.equal(state.notBefore[eventId], notBefore);
      assert.equal(state.document.Events[0].EventStatus, "Started");
    } finally {
      await fake.close();
    }
  });
});
