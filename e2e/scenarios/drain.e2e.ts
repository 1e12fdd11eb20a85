/**
 * Drain on Scheduled Events, in one boot (systemd mode, overprovision false, a short worker whose
 * SIGTERM handler takes HANDLER_SECONDS to hand its task back). The fake serves Scheduled Events at
 * 169.254.169.254 in the doc's wire format; hpc-worker-drain.service polls it from boot. In order:
 *   1. a Terminate for another VM of the scale set: ignored, never acknowledged, the worker untouched;
 *   2. a Terminate for this VM with 5 min notice: SIGTERM, the handler runs to its end, then the ack;
 *   3. the event leaves the document (Azure cancelled it): the watcher starts the worker again;
 *   4. a Preempt with 30 s notice: SIGTERM, the handler runs to its end, the ack before NotBefore.
 */
import * as assert from "assert";
import { DRAIN_UNIT, DeliveryMode } from "../../components";
import { SCHEDULED_EVENTS_POLL_MS } from "../../agent/src/core/constants";
import { FIRST_POLLS_TIMEOUT_MS, Scenario, timing } from "../lib/scenario";
import { SerialLine } from "../lib/serial";
import { seconds } from "../lib/suite";
import { WORKER_STARTED } from "../lib/worker";

const NAME = "drain";
/** How long the worker's SIGTERM handler works before it exits 0: well inside the default drainSeconds (25). */
const HANDLER_SECONDS = 3;
/**
 * The worker: says it started (in the shape WORKER_STARTED matches, with nothing to compare), then
 * idles; on SIGTERM it says so, "hands its task back" for HANDLER_SECONDS and exits 0. The markers
 * are assembled at run time so they never appear in the command text itself.
 */
const DRAIN_WORKER_COMMAND =
  `trap 'printf "%s-%s\\n" E2E-WORKER SIGTERM; sleep ${HANDLER_SECONDS}; printf "%s-%s\\n" E2E-WORKER HANDED-BACK; exit 0' TERM; ` +
  `printf '%s-%s cmdline= argv=\\n' E2E-WORKER STARTED; ` +
  `while :; do sleep 1; done`;
const SIGTERM_LINE = /E2E-WORKER-SIGTERM/;
const HANDED_BACK_LINE = /E2E-WORKER-HANDED-BACK/;

/** Polls once a second; under TCG a poll, the journal and the console add a few seconds. */
const REACT_MAX_MS = 10_000;
/** Polls the watcher must make after another VM's event, each of which could have acted on it. */
const POLLS_AFTER_FOREIGN_EVENT = 5;
const TERMINATE_NOTICE_MS = 300_000;
const PREEMPT_NOTICE_MS = 30_000;
/** The launcher's first back-off (5 s) after a recent start, the waiter's first reads and TCG. */
const RESTART_MAX_MS = 45_000;

describe("drain: Scheduled Events for another VM, then a Terminate and a Preempt for this one (one boot)", function () {
  this.bail(true);
  const s = new Scenario(
    NAME,
    { delivery: DeliveryMode.Systemd, workerCommand: DRAIN_WORKER_COMMAND, overprovision: false },
    { vm: "Creating", scaleSet: "Succeeded" },
  );
  const other = s.fake.vmName.replace(/_\d+$/, "_7");
  let foreign = "";
  let terminate = "";

  before(() => s.start());
  after(() => s.dispose());
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.error(s.diagnostics());
  });

  const events = () => s.fake.callsTo("scheduledEvents");
  const gets = (since: number) => events().filter((c) => c.method === "GET" && c.at >= since && c.status === 200);

  async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (s.guest.exited()) throw new Error(`${what}: the guest stopped: ${s.guest.exited()}`);
      if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds(timeoutMs)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGTERM, the handler's end, then the ack; returns the three host times. */
  async function drained(eventId: string, scheduledAt: number) {
    const sigterm = await s.guest.serial.waitFor(SIGTERM_LINE, "the worker got no SIGTERM", REACT_MAX_MS, {
      aborted: () => s.guest.exited(),
    });
    const handedBack = await s.guest.serial.waitFor(
      HANDED_BACK_LINE,
      "the worker's SIGTERM handler did not run to its end",
      HANDLER_SECONDS * 1000 + REACT_MAX_MS,
      { aborted: () => s.guest.exited() },
    );
    await waitUntil("the acknowledgement", () => s.fake.scheduledEvents.ackedAt(eventId) !== undefined, REACT_MAX_MS);
    const ackAt = s.fake.scheduledEvents.ackedAt(eventId)!;
    assert.ok(sigterm.at >= scheduledAt, "SIGTERM came before the event");
    // The console line trails the handler by the journal and the serial port: a second's slack.
    assert.ok(ackAt >= handedBack.at - 1000, `acknowledged ${seconds(handedBack.at - ackAt)} before the handler ended`);
    assert.ok(ackAt - sigterm.at >= (HANDLER_SECONDS - 1) * 1000, "acknowledged before the handler could have ended");
    const watcherSaid = s.guest.serial.find(new RegExp(`event ${eventId}: the worker (stopped|got SIGKILL)`));
    assert.ok(watcherSaid, "the watcher did not log how the worker ended");
    assert.match(watcherSaid.text, /the worker stopped/, "the worker had to be killed");
    return { sigterm, handedBack, ackAt };
  }

  it("boots, polls Scheduled Events from its own unit, and starts the worker on Succeeded", async () => {
    await s.boot();
    const first = await (async () => {
      await waitUntil("a Scheduled Events call", () => gets(0).length > 0, FIRST_POLLS_TIMEOUT_MS);
      return gets(0)[0];
    })();
    timing(NAME, "boot to the first Scheduled Events call", first.at - s.guest.bootStartedAt);
    assert.strictEqual(first.headers["metadata"], "true");
    assert.strictEqual(first.query["api-version"], "2020-07-01");
    assert.ok(
      s.guest.serial.find(
        new RegExp(`${DRAIN_UNIT.replace(".service", "")}\\[\\d+\\]: drain-watcher: this VM is ${s.fake.vmName}`),
      ),
    );
    await s.flipAndWaitForWorker();
    const polls = gets(first.at).length;
    assert.ok(polls >= 1, "the watcher stopped polling");
  });

  it("leaves a Terminate for another VM alone: logged once, never acknowledged, the worker untouched", async () => {
    const at = Date.now();
    foreign = s.fake.scheduledEvents.schedule("Terminate", { resources: [other], noticeMs: TERMINATE_NOTICE_MS });
    await waitUntil("polls after the other VM's event", () => gets(at).length >= POLLS_AFTER_FOREIGN_EVENT, 30_000);
    const seen = s.guest.serial.filter(new RegExp(`event ${foreign} Terminate Scheduled .*not this VM`));
    assert.strictEqual(seen.length, 1, "one journal line for the decision");
    assert.deepStrictEqual(s.fake.scheduledEvents.acks, []);
    assert.strictEqual(s.guest.serial.find(SIGTERM_LINE), undefined);
    // About one poll a second (IMDS allows 5 requests/s per VM); single gaps jitter with slirp and TCG.
    const recent = events().filter((c) => c.at >= at);
    const span = recent[recent.length - 1].at - recent[0].at;
    assert.ok(recent.length - 1 <= span / SCHEDULED_EVENTS_POLL_MS + 1, `${recent.length} calls in ${seconds(span)}`);
  });

  it("drains for a Terminate of this VM with 5 min notice: SIGTERM, the handler ends, then the ack", async () => {
    const at = Date.now();
    terminate = s.fake.scheduledEvents.schedule("Terminate", { noticeMs: TERMINATE_NOTICE_MS });
    const { sigterm, ackAt } = await drained(terminate, at);
    timing(NAME, "Terminate scheduled to SIGTERM", sigterm.at - at);
    timing(NAME, "Terminate scheduled to ack", ackAt - at);
    assert.ok(ackAt < s.fake.scheduledEvents.notBeforeOf(terminate)!);
    const unit = await s.unitProperties();
    assert.strictEqual(unit.ActiveState, "inactive", `hpc-worker.service is ${unit.ActiveState}/${unit.SubState}`);
  });

  it("starts the worker again when the event leaves the document", async () => {
    const at = Date.now();
    s.fake.scheduledEvents.remove(terminate);
    const again = await s.guest.serial.waitFor(
      /the events drained for are gone: starting the worker again/,
      "the watcher did not restart the worker",
      REACT_MAX_MS,
    );
    const started = await waitForLine(WORKER_STARTED, at, RESTART_MAX_MS);
    timing(NAME, "event gone to the worker started again", started.at - at);
    assert.ok(again.at <= started.at);
  });

  it("drains for a Preempt with 30 s notice: the handler runs to its end and the ack reaches the fake before NotBefore", async () => {
    const at = Date.now();
    const preempt = s.fake.scheduledEvents.schedule("Preempt", { noticeMs: PREEMPT_NOTICE_MS });
    const sigtermsBefore = s.guest.serial.filter(SIGTERM_LINE).length;
    const sigterm = await waitForLine(SIGTERM_LINE, at, REACT_MAX_MS);
    const handedBack = await waitForLine(HANDED_BACK_LINE, sigterm.at, HANDLER_SECONDS * 1000 + REACT_MAX_MS);
    await waitUntil("the acknowledgement", () => s.fake.scheduledEvents.ackedAt(preempt) !== undefined, REACT_MAX_MS);
    const ackAt = s.fake.scheduledEvents.ackedAt(preempt)!;
    const notBefore = s.fake.scheduledEvents.notBeforeOf(preempt)!;
    timing(NAME, "Preempt scheduled to SIGTERM", sigterm.at - at);
    timing(NAME, "Preempt ack ahead of NotBefore", notBefore - ackAt);
    assert.strictEqual(sigtermsBefore, 1);
    assert.ok(ackAt >= handedBack.at - 1000, "acknowledged before the handler ended");
    assert.ok(ackAt < notBefore, `acknowledged ${seconds(ackAt - notBefore)} after NotBefore`);
    // Exactly this VM's two events were acknowledged, each once; the other VM's never.
    assert.deepStrictEqual(
      s.fake.scheduledEvents.acks.map((a) => [a.eventIds, a.status]),
      [
        [[terminate], 200],
        [[preempt], 200],
      ],
    );
    assert.ok(!s.fake.scheduledEvents.acks.some((a) => a.eventIds.includes(foreign)));
  });

  /** The first line matching `pattern` that arrived after `since`. */
  async function waitForLine(pattern: RegExp, since: number, timeoutMs: number): Promise<SerialLine> {
    let line: SerialLine | undefined;
    await waitUntil(`a console line ${pattern}`, () => !!(line = s.guest.serial.find(pattern, since)), timeoutMs);
    return line!;
  }
});
