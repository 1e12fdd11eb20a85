/**
 * The drain watcher as the custom data ships it: hpc-worker-drain.service and its script, in every
 * delivery mode, enabled from cloud-init and pulled in by the worker; the worker unit's stop
 * timeout is drainSeconds. systemd-analyze verify and shellcheck of these files are in delivery.spec.ts.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  DEFAULT_DRAIN_SECONDS,
  DRAIN_SCRIPT_PATH,
  DRAIN_UNIT,
  DRAIN_UNIT_PATH,
  DeliveryMode,
  UNIT_PATH,
  WAITER_PATH,
  WORKER_UNIT,
  renderCustomData,
  renderDrainScript,
} from "../components";
import { parseCloudConfig, writeFile } from "../testkit/cloudConfig";
import { tempDir } from "../testkit/vmScripts";

const MODES = Object.values(DeliveryMode);

/** Runs the rendered script with NODE and WAITER pointed at stubs; returns what the "watcher" got. */
function runDrainScript(text: string, nodeFailsFirst: number) {
  const dir = tempDir("hpc-drain-");
  try {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    // `sleep` records instead of sleeping; `node` refuses its first checks (an install in progress).
    fs.writeFileSync(path.join(bin, "sleep"), `#!/bin/sh\necho "$1" >> "${dir}/sleeps"\n`, { mode: 0o755 });
    const node = path.join(bin, "stub-node");
    fs.writeFileSync(
      node,
      `#!/bin/sh\nn=$(cat "${dir}/tries" 2>/dev/null || echo 0); echo $((n + 1)) > "${dir}/tries"\n` +
        `if [ "$1" = -e ] && [ "$n" -lt ${nodeFailsFirst} ]; then exit 1; fi\nexec "${process.execPath}" "$@"\n`,
      { mode: 0o755 },
    );
    const watcher = path.join(dir, "watcher.js");
    fs.writeFileSync(
      watcher,
      `require("fs").writeFileSync(${JSON.stringify(path.join(dir, "argv"))}, JSON.stringify(process.argv.slice(2)))`,
    );
    const patched = text.replace(/^NODE=.*$/m, `NODE=${node}`).replace(/^WAITER=.*$/m, `WAITER=${watcher}`);
    assert.notEqual(patched, text);
    const script = path.join(dir, "drain-watch");
    fs.writeFileSync(script, patched, { mode: 0o755 });
    const run = spawnSync(script, [], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
    return {
      status: run.status,
      stderr: run.stderr,
      argv: read("argv"),
      sleeps: read("sleeps").split("\n").filter(Boolean),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the drain watcher on the VM (hpc-worker-drain.service)", () => {
  for (const delivery of MODES) {
    for (const installNodejs of [true, false]) {
      it(`${delivery} (installNodejs ${installNodejs}): ships the unit and its script, enables it first in runcmd, and the worker unit wants it`, () => {
        const doc = parseCloudConfig(renderCustomData({ delivery, workerCommand: "w", installNodejs }));
        const unit = writeFile(doc, DRAIN_UNIT_PATH);
        assert.match(unit, new RegExp(`^ExecStart=${DRAIN_SCRIPT_PATH}$`, "m"));
        assert.match(writeFile(doc, DRAIN_SCRIPT_PATH), new RegExp(`^WAITER=${WAITER_PATH}$`, "m"));
        assert.deepEqual(doc.runcmd[0], ["systemctl", "enable", "--now", "--no-block", DRAIN_UNIT]);
        assert.equal(doc.runcmd.filter((c: string[]) => c.includes(DRAIN_UNIT)).length, 1);
        assert.deepEqual(writeFile(doc, UNIT_PATH).match(/^Wants=hpc-worker-drain\.service$/gm), [
          `Wants=${DRAIN_UNIT}`,
        ]);
        assert.equal(/^Wants=hpc-node-install\.service$/m.test(unit), installNodejs);
      });
    }
  }

  it("runs from boot as its own service that never holds it, restarts for good, and does not wait for the worker", () => {
    const unit = writeFile(
      parseCloudConfig(renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand: "w" })),
      DRAIN_UNIT_PATH,
    );
    assert.match(unit, /^Type=exec$/m);
    assert.match(unit, /^WantedBy=multi-user\.target$/m);
    assert.match(unit, /^Restart=always$/m);
    assert.match(unit, /^StartLimitIntervalSec=0$/m);
    // Only a usage error (2) is final: bad flags stay bad.
    assert.match(unit, /^RestartPreventExitStatus=2$/m);
    assert.doesNotMatch(unit, /^User=/m, "it stops another unit: root");
    assert.doesNotMatch(unit, /^(After|Requires|BindsTo|Requisite|PartOf)=.*hpc-worker\.service/m);
    assert.doesNotMatch(unit, /^ExecStartPre=|^Type=(oneshot|notify|forking)/m);
  });

  it("gives the worker drainSeconds between SIGTERM and systemd's SIGKILL on any stop (TimeoutStopSec), the watcher the same figure", () => {
    for (const [drainSeconds, expected] of [
      [undefined, DEFAULT_DRAIN_SECONDS],
      [40, 40],
    ] as const) {
      const doc = parseCloudConfig(
        renderCustomData({
          delivery: DeliveryMode.Systemd,
          workerCommand: "w",
          drainSeconds,
          imdsUrl: "http://127.0.0.1:9",
        }),
      );
      assert.deepEqual(writeFile(doc, UNIT_PATH).match(/^TimeoutStopSec=.*$/gm), [`TimeoutStopSec=${expected}`]);
      const run = runDrainScript(writeFile(doc, DRAIN_SCRIPT_PATH), 0);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.argv), [
        "drain-watcher",
        "--unit",
        WORKER_UNIT,
        "--drain-seconds",
        String(expected),
        "--imds-url",
        "http://127.0.0.1:9",
      ]);
    }
  });

  it("refuses a drainSeconds the watcher would refuse, naming the field", () => {
    assert.throws(
      () => renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand: "w", drainSeconds: 0 }),
      /drainSeconds must be a whole number of seconds from 1 to 900 \(got 0\)/,
    );
  });

  it("waits for a Node.js that runs the bundle (one journal line, 3 s apart), then execs the watcher", () => {
    const run = runDrainScript(renderDrainScript({}), 3);
    assert.equal(run.status, 0, run.stderr);
    // The first look is before the loop: three refusals, two sleeps.
    assert.deepEqual(run.sleeps, ["3", "3"]);
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /waiting for Node\.js before polling Scheduled Events/);
    assert.deepEqual(JSON.parse(run.argv), ["drain-watcher", "--unit", WORKER_UNIT]);
  });
});
