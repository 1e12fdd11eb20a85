/**
 * Proves the harness itself with a hand-written user-data (no component code): the serial
 * watcher, the IMDS forward to a host server, the guest agent, QMP power-off, a reboot on the
 * same disk, and that nothing is left running; then a negative control showing that the
 * scenarios' boot-not-blocked assertion catches the Type=oneshot trap.
 * Run: npm run test:e2e -- e2e/harness.selftest.ts   (about 5 min under TCG)
 */
import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import * as YAML from "yaml";
import { UNIT_PATH } from "../components";
import { Guest } from "./lib/guest";
import { waitForNodeInstalled } from "./lib/nodeInstall";
import { Scenario } from "./lib/scenario";
import { WORKER_COMMAND } from "./lib/worker";
import { childPids, killAllTracked } from "./lib/processes";
import { bootTimeoutMs, CLOUD_INIT_DONE, guestEnvironment, MULTI_USER_REACHED, seconds, tail } from "./lib/suite";

const MARKER = /HARNESS-(GO|WAIT) (\d+)/;
/** Boot to cloud-init done under TCG, measured: about 32 s. */
const NORMAL_TCG_BOOT_MS = 35_000;

describe("e2e harness self-test", function () {
  this.bail(true);
  let server: http.Server;
  let answer = 503;
  const requests: number[] = [];
  let guest: Guest;
  let timeout = 0;

  before(async () => {
    const env = await guestEnvironment();
    timeout = bootTimeoutMs(env.accel);
    server = http.createServer((req, res) => {
      requests.push(Date.now());
      res.writeHead(answer).end(answer === 200 ? "go" : "wait");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const userData = `#cloud-config
write_files:
  - path: /etc/systemd/system/harness.service
    content: |
      [Service]
      Type=exec
      ExecStart=/bin/sh -c 'while :; do c=$$(curl -s -o /dev/null -w "%%{http_code}" -m 5 http://169.254.169.254/); if [ "$$c" = 200 ]; then echo HARNESS-GO $$c; exec sleep 100000; fi; echo HARNESS-WAIT $$c; sleep 1; done'
      [Install]
      WantedBy=multi-user.target
runcmd:
  - [ systemctl, enable, --now, --no-block, harness.service ]
`;
    guest = new Guest({
      name: "harness",
      image: env.image,
      accel: env.accel,
      userData,
      fakePort: port,
      workDir: env.workDir,
    });
  });

  after(async () => {
    await guest?.kill();
    await killAllTracked();
    await new Promise((r) => server?.close(r));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && guest) console.error(tail(guest.serial));
  });

  it("boots, reaches cloud-init done, and the guest reaches the host through 169.254.169.254", async () => {
    await guest.boot();
    const done = await guest.serial.waitFor(CLOUD_INIT_DONE, "cloud-init done", timeout, {
      aborted: () => guest.exited(),
    });
    await guest.serial.waitFor(MULTI_USER_REACHED, "multi-user", 1000);
    console.error(`      boot to cloud-init done: ${seconds(done.at - guest.bootStartedAt)}`);
    await guest.serial.waitFor(/HARNESS-WAIT 503/, "the guest's first request", 60_000);
    assert.ok(requests.length >= 1);
  });

  it("sees a host-side flip on the console within seconds", async () => {
    const flip = Date.now();
    answer = 200;
    const go = await guest.serial.waitFor(/HARNESS-GO 200/, "go", 30_000);
    console.error(`      flip to console: ${seconds(go.at - flip)}`);
    assert.ok(MARKER.test(go.text));
  });

  it("runs a command as root through the guest agent", async () => {
    const qga = await guest.guestAgent(60_000);
    const r = await qga.sh("id -u; printf '%s' \"$0\"", 30_000);
    assert.strictEqual(r.exitcode, 0);
    assert.strictEqual(r.stdout, "0\n/bin/sh");
    console.error(`      guest-exec round trip: ${r.ms} ms`);
  });

  it("powers off cleanly and reboots on the same disk", async () => {
    const ms = await guest.powerdown();
    console.error(`      powerdown: ${seconds(ms)}`);
    answer = 503;
    await guest.boot();
    const done = await guest.serial.waitFor(CLOUD_INIT_DONE, "cloud-init done (2nd boot)", timeout, {
      aborted: () => guest.exited(),
    });
    console.error(`      second boot to cloud-init done: ${seconds(done.at - guest.bootStartedAt)}`);
    await guest.serial.waitFor(/HARNESS-WAIT 503/, "waiting again after the reboot", 60_000);
    assert.strictEqual(guest.serial.find(/HARNESS-GO/), undefined, "the new boot's log starts after the reboot");
  });

  it("leaves no process behind", async () => {
    await guest.kill();
    await killAllTracked();
    assert.deepStrictEqual(
      childPids(process.pid).filter((p) => p !== process.pid),
      [],
      "children left",
    );
  });
});

/**
 * Negative control for scenario 1's first assertion: the same custom data with the unit turned
 * into `Type=oneshot` (the trap: cloud-final is After=multi-user.target) must be reported as a
 * blocked boot. Three normal boots' worth of time is ample.
 */
describe("e2e harness self-test: the boot-not-blocked assertion catches a waiting Type=oneshot unit", function () {
  const s = new Scenario(
    "oneshot-trap",
    { delivery: "systemd", workerCommand: WORKER_COMMAND, overprovision: false },
    {
      vm: "Creating",
      scaleSet: "Updating",
    },
  );
  before(() =>
    s.start((text) => {
      const doc = YAML.parse(text);
      const unit = doc.write_files.find((f: { path: string }) => f.path === UNIT_PATH);
      assert.ok(/^Type=exec$/m.test(unit.content), "the shipped unit is Type=exec");
      unit.content = unit.content.replace(/^Type=exec$/m, "Type=oneshot");
      return "#cloud-config\n" + YAML.stringify(doc, { lineWidth: 0 });
    }),
  );
  after(() => s.dispose());

  it("reports the reboot as blocked while the VM is Updating", async () => {
    // On the first boot the unit is started by runcmd inside cloud-final, after multi-user.target,
    // so nothing waits for it; the trap bites on every later boot, where the enabled unit is
    // part of multi-user.target. Scenario 1 asserts the reboot too.
    await s.boot();
    // The first boot installs node (the image has none); the trap below is the waiter's, not the install's.
    await waitForNodeInstalled(s);
    await s.guest.powerdown();
    s.fake.setVmState("Updating");
    const limit = 3 * NORMAL_TCG_BOOT_MS;
    await assert.rejects(s.boot(limit), /cloud-init did not finish while the fake said VM=Updating/);
    assert.strictEqual(s.guest.serial.find(MULTI_USER_REACHED), undefined, "multi-user.target was held back");
    assert.ok(s.reads("vm", s.guest.bootStartedAt).length > 0, "the waiter was polling all along");
    // (Flipping would not release it either: a oneshot's start job ends only when the foreground
    // worker exits, so multi-user.target and cloud-final would wait for the worker's whole life.)
  });
});
