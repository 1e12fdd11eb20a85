/**
 * The delivery modes, checked by the real tools (cloud-init, systemd-analyze, shellcheck)
 * and property-tested for escaping: any worker command reaches `/bin/sh -c` byte for byte.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import {
  DRAIN_SCRIPT_PATH,
  DRAIN_UNIT_PATH,
  DeliveryMode,
  HEALTH_SERVER_PATH,
  STOP_RECORDER_PATH,
  LAUNCHER_PATH,
  NODE_INSTALLER_PATH,
  NODE_INSTALL_UNIT_PATH,
  PER_BOOT_SCRIPT_PATH,
  UNIT_PATH,
  WAITER_PATH,
  WORKER_COMMAND_PATH,
  WorkerKind,
  customScriptCommand,
  renderCustomData,
  renderExtensions,
} from "../components";
import { HEALTH_SOCKET_UNIT_PATH, HEALTH_UNIT_PATH } from "../components/healthUnits";
import { CloudConfigFile, fileBytes, parseCloudConfig, writeFile } from "../testkit/cloudConfig";
import { runLauncher, tempDir } from "../testkit/vmScripts";

/** Commands that break naive quoting in YAML, systemd, or the shell. */
export const ADVERSARIAL_COMMANDS = [
  `echo "double" 'single' \`backtick\` $HOME \${HOME} $(id -u)`,
  "printf '%s %d %% %n' 100% %h %i %%",
  "echo back\\slash \\\\ \\n \\t \\",
  "- leading dash: colon # hash ! bang & amp * star | pipe > gt { brace } [ bracket ]",
  "echo ünïcødé ✓ 日本語 🚀 \u200b zero-width",
  "echo 'it'\\''s' && echo \"a\\\"b\" ; exit 0",
  "   leading and trailing spaces   ",
  "line one\nline two\n\ttabbed line\n",
  "trailing newlines\n\n\n",
  "echo " + "x".repeat(20000),
  "%n%N%H%m%b %%%% ${X:-default} $((1+2))",
  "--flag-looking-command --x=y",
  "null\\0 byte escape but no byte",
];

const MODES = Object.values(DeliveryMode);
const KINDS = Object.values(WorkerKind);

function tool(name: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  assert.equal(
    found.status,
    0,
    `${name} is not installed: run .ci/run (apt-get install cloud-init shellcheck systemd) first`,
  );
  return found.stdout.trim();
}

function filesOf(doc: Record<string, any>): CloudConfigFile[] {
  return (doc.write_files ?? []) as CloudConfigFile[];
}

describe("delivery modes: the real validators", function () {
  this.timeout(120000);
  const work = tempDir("hpc-delivery-");
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const delivery of MODES) {
    for (const workerKind of KINDS) {
      it(`cloud-init schema accepts the ${delivery}/${workerKind} user-data for every adversarial command`, () => {
        const cloudInit = tool("cloud-init");
        for (const [i, workerCommand] of ADVERSARIAL_COMMANDS.entries()) {
          const file = path.join(work, `${delivery}-${workerKind}-${i}.yaml`);
          const installNodejs = i % 3 !== 0;
          fs.writeFileSync(
            file,
            renderCustomData({ delivery, workerKind, workerCommand, overprovision: i % 2 === 0, installNodejs }),
          );
          const run = spawnSync(cloudInit, ["schema", "--config-file", file], { encoding: "utf8" });
          assert.equal(run.status, 0, `cloud-init schema rejected ${file}:\n${run.stdout}${run.stderr}`);
          assert.match(run.stdout, /^Valid cloud-config/);
          assert.doesNotMatch(run.stderr + run.stdout, /deprecat|warn/i);
        }
      });
    }
  }

  for (const [workerKind, installNodejs] of KINDS.flatMap((k) => [true, false].map((i) => [k, i] as const))) {
    const services = installNodejs ? [UNIT_PATH, NODE_INSTALL_UNIT_PATH] : [UNIT_PATH];
    const units = [...services, DRAIN_UNIT_PATH, HEALTH_UNIT_PATH, HEALTH_SOCKET_UNIT_PATH];
    it(`systemd-analyze verify accepts ${units.map((u) => path.basename(u)).join(", ")} (${workerKind}, installNodejs ${installNodejs}) with nothing to report`, () => {
      const analyze = tool("systemd-analyze");
      const doc = parseCloudConfig(
        renderCustomData({
          delivery: DeliveryMode.Systemd,
          workerKind,
          installNodejs,
          workerCommand: ADVERSARIAL_COMMANDS[1],
        }),
      );
      assert.deepEqual(
        filesOf(doc)
          .map((f) => f.path)
          .filter((p) => /\.(service|socket)$/.test(p))
          .sort(),
        [...units].sort(),
      );
      // A root holding the system's own units (for the default dependencies) and every path the unit names.
      const root = path.join(work, `root-${workerKind}-${installNodejs}`);
      fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
      fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), {
        recursive: true,
        verbatimSymlinks: true,
      });
      for (const file of filesOf(doc)) {
        const target = path.join(root, file.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, fileBytes(file), { mode: parseInt(file.permissions ?? "0644", 8) });
      }
      // The one system binary the units name (ExecStartPre creates the health state directory).
      fs.mkdirSync(path.join(root, "usr/bin"), { recursive: true });
      fs.copyFileSync(tool("install"), path.join(root, "usr/bin/install"));
      fs.chmodSync(path.join(root, "usr/bin/install"), 0o755);
      const run = spawnSync(analyze, ["verify", `--root=${root}`, ...units], { encoding: "utf8" });
      assert.equal(run.status, 0, `systemd-analyze verify failed:\n${run.stdout}${run.stderr}`);
      assert.equal((run.stdout + run.stderr).trim(), "", "systemd-analyze verify printed warnings");
    });
  }

  it("systemd-analyze verify would catch a broken unit (the check can fail)", () => {
    const analyze = tool("systemd-analyze");
    const unit = path.join(work, "broken.service");
    fs.writeFileSync(unit, "[Service]\nType=exec\nExecStart=/bin/true\nRestartSteps=3\n");
    const run = spawnSync(analyze, ["verify", unit], { encoding: "utf8" });
    assert.match(run.stdout + run.stderr, /RestartSteps|Unknown/);
  });

  for (const [delivery, installNodejs] of MODES.flatMap((m) => [true, false].map((i) => [m, i] as const))) {
    it(`shellcheck is clean on every shell script the ${delivery} mode ships (installNodejs ${installNodejs})`, () => {
      const shellcheck = tool("shellcheck");
      const doc = parseCloudConfig(
        renderCustomData({
          delivery,
          workerCommand: ADVERSARIAL_COMMANDS[0],
          imdsUrl: "http://127.0.0.1:1",
          armUrl: "http://127.0.0.1:1",
          timeoutSeconds: 30,
          installNodejs,
        }),
      );
      const scripts = filesOf(doc).filter((f) => fileBytes(f).toString("utf8").startsWith("#!/bin/sh"));
      const expected = [
        LAUNCHER_PATH,
        STOP_RECORDER_PATH,
        HEALTH_SERVER_PATH,
        ...(delivery === DeliveryMode.CloudInit ? [PER_BOOT_SCRIPT_PATH] : []),
        ...(installNodejs ? [NODE_INSTALLER_PATH] : []),
        DRAIN_SCRIPT_PATH,
      ];
      assert.deepEqual(scripts.map((f) => f.path).sort(), expected.sort());
      for (const script of scripts) {
        const file = path.join(work, `${delivery}-${installNodejs}-${path.basename(script.path)}`);
        fs.writeFileSync(file, fileBytes(script));
        const run = spawnSync(shellcheck, ["--shell=sh", "--severity=style", file], { encoding: "utf8" });
        assert.equal(run.status, 0, `shellcheck on ${script.path}:\n${run.stdout}${run.stderr}`);
      }
    });
  }

  for (const delivery of MODES) {
    for (const overprovision of [true, false]) {
      const extensions = renderExtensions({ delivery, overprovision, imdsUrl: "http://127.0.0.1:1" });
      if (extensions.length === 0) continue;
      it(`shellcheck is clean on the ${delivery} extension's command (overprovision ${overprovision})`, () => {
        const shellcheck = tool("shellcheck");
        assert.equal(extensions.length, 1);
        const file = path.join(work, `extension-${delivery}-${overprovision}.sh`);
        fs.writeFileSync(file, extensions[0].settings.commandToExecute);
        const run = spawnSync(shellcheck, ["--shell=sh", "--severity=style", file], { encoding: "utf8" });
        assert.equal(run.status, 0, `shellcheck on ${extensions[0].name}:\n${run.stdout}${run.stderr}`);
      });
    }
  }

  it("the customScript command is one plain command line that returns at once (systemd-run --no-block)", () => {
    const command = customScriptCommand();
    assert.match(command, /^systemd-run --no-block /);
    assert.match(command, /--property=After=cloud-final\.service/);
    assert.match(command, /start --no-block hpc-worker\.service$/);
    assert.doesNotMatch(command, /['"$`\\;&|]/);
  });
});

describe("delivery modes: boot is never held", () => {
  for (const workerKind of KINDS) {
    it(`the ${workerKind} unit's start job completes at exec (Type=exec), so multi-user.target and cloud-final never wait`, () => {
      const unit = writeFile(
        parseCloudConfig(renderCustomData({ delivery: DeliveryMode.Systemd, workerKind, workerCommand: "w" })),
        UNIT_PATH,
      );
      assert.match(unit, /^Type=exec$/m);
      assert.doesNotMatch(unit, /^Type=(oneshot|forking|notify)/m);
      // The one ExecStartPre creates the health state directory and returns at once; none waits.
      assert.deepEqual(unit.match(/^ExecStartPre=.*$/gm), [
        "ExecStartPre=+/usr/bin/install -d -o hpcworker -m 0755 /run/hpc-worker-state",
      ]);
      assert.doesNotMatch(unit, /cloud-final|cloud-init\.target/);
      assert.match(unit, /^RestartPreventExitStatus=89 92 93 94 95 96$/m);
      assert.match(unit, /^Restart=on-failure$/m);
      assert.match(unit, /^NotifyAccess=all$/m);
      assert.equal(/^RemainAfterExit=yes$/m.test(unit), workerKind === WorkerKind.Forking);
    });
  }

  const DRAIN_ENABLE = ["systemctl", "enable", "--now", "--no-block", "hpc-worker-drain.service"];
  const HEALTH_SOCKET_ENABLE = ["systemctl", "enable", "--now", "--no-block", "hpc-worker-health.socket"];

  it("the installer's unit is pulled in by the worker's and the drain watcher's only, and its start job too completes at exec", () => {
    const doc = parseCloudConfig(renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand: "w" }));
    const installer = writeFile(doc, NODE_INSTALL_UNIT_PATH);
    assert.match(installer, /^Type=exec$/m);
    assert.match(installer, /^ExecStart=\/usr\/local\/lib\/hpc-workers\/install-node$/m);
    // No [Install] (nothing enables it), no Before= (nothing waits for it), no Restart= (it retries itself).
    assert.doesNotMatch(installer, /^\[Install\]|^WantedBy=|^RequiredBy=|^Before=|^Restart=|^ExecStartPre=/m);
    const worker = writeFile(doc, UNIT_PATH);
    assert.deepEqual(worker.match(/^(Wants|After|Requires|BindsTo|Requisite)=hpc-node-install\.service$/gm), [
      "Wants=hpc-node-install.service",
      "After=hpc-node-install.service",
    ]);
    const imageNode = writeFile(
      parseCloudConfig(renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand: "w", installNodejs: false })),
      UNIT_PATH,
    );
    assert.doesNotMatch(imageNode, /hpc-node-install/);
  });

  it("no mode uses cloud-init's packages module, which runs once and may give up on a held dpkg lock", () => {
    for (const delivery of MODES) {
      for (const installNodejs of [true, false]) {
        const doc = parseCloudConfig(renderCustomData({ delivery, workerCommand: "w", installNodejs }));
        assert.deepEqual(
          Object.keys(doc).filter((k) => /package/.test(k)),
          [],
        );
      }
    }
  });

  it("systemd mode enables and starts the drain watcher, the health socket and the unit with --no-block, and no runcmd waits", () => {
    const doc = parseCloudConfig(renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand: "w" }));
    assert.deepEqual(doc.runcmd, [
      DRAIN_ENABLE,
      HEALTH_SOCKET_ENABLE,
      ["systemctl", "enable", "--now", "--no-block", "hpc-worker.service"],
    ]);
  });

  it("cloudInit mode's per-boot script only queues the unit; runcmd only enables the drain watcher and the health socket", () => {
    const doc = parseCloudConfig(renderCustomData({ delivery: DeliveryMode.CloudInit, workerCommand: "w" }));
    // The drain watcher and the health socket only: the worker waits for the per-boot script.
    assert.deepEqual(doc.runcmd, [DRAIN_ENABLE, HEALTH_SOCKET_ENABLE]);
    assert.match(writeFile(doc, PER_BOOT_SCRIPT_PATH), /^exec systemctl start --no-block hpc-worker\.service$/m);
  });

  it("customScript mode's runcmd only enables the drain watcher and the health socket: the extension starts the worker", () => {
    const doc = parseCloudConfig(renderCustomData({ delivery: DeliveryMode.CustomScript, workerCommand: "w" }));
    assert.deepEqual(doc.runcmd, [DRAIN_ENABLE, HEALTH_SOCKET_ENABLE]);
  });

  it("the health endpoint holds nothing: a socket bound at sockets.target, a Type=exec service started by it", () => {
    const doc = parseCloudConfig(
      renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand: "w", healthPort: 8123 }),
    );
    const socket = writeFile(doc, HEALTH_SOCKET_UNIT_PATH);
    assert.match(socket, /^ListenStream=127\.0\.0\.1:8123$/m);
    assert.match(socket, /^WantedBy=sockets\.target$/m);
    assert.doesNotMatch(socket, /multi-user|network-online|cloud-/);
    const service = writeFile(doc, HEALTH_UNIT_PATH);
    assert.match(service, /^Type=exec$/m);
    assert.match(service, /^User=hpcworker$/m);
    assert.match(service, /^Restart=always$/m);
    assert.doesNotMatch(service, /^\[Install\]|^WantedBy=|multi-user|network-online|cloud-/m);
    assert.match(writeFile(doc, HEALTH_SERVER_PATH), /health-server --port 8123 --state-dir \/run\/hpc-worker-state$/m);
  });
});

const commandArbitrary = fc
  .oneof(
    fc.string({
      unit: fc.constantFrom(..."\"'`$%\\!&*|#:-{}[]<>;()~^?= \t\n\r".split("")),
      minLength: 1,
      maxLength: 60,
    }),
    fc.string({ unit: "binary", minLength: 1, maxLength: 200 }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 4000 }),
  )
  .filter((s) => !s.includes("\0") && s.trim() !== "" && Buffer.from(s, "utf8").toString("utf8") === s);

describe("delivery modes: escaping, property-based", function () {
  this.timeout(120000);

  it("every mode's YAML parses back to the same file contents, for any command", () => {
    fc.assert(
      fc.property(
        commandArbitrary,
        fc.constantFrom(...MODES),
        fc.constantFrom(...KINDS),
        fc.boolean(),
        (workerCommand, delivery, workerKind, overprovision) => {
          const doc = parseCloudConfig(
            renderCustomData({ delivery, workerKind, workerCommand, overprovision, agentBundle: "// stub agent\n" }),
          );
          assert.equal(writeFile(doc, WORKER_COMMAND_PATH), workerCommand);
          assert.equal(writeFile(doc, WAITER_PATH), "// stub agent\n");
          // Nothing else depends on the command: the other files are the same as for a trivial one.
          const reference = parseCloudConfig(
            renderCustomData({
              delivery,
              workerKind,
              workerCommand: "true",
              overprovision,
              agentBundle: "// stub agent\n",
            }),
          );
          for (const file of filesOf(reference).filter((f) => f.path !== WORKER_COMMAND_PATH)) {
            assert.equal(writeFile(doc, file.path), writeFile(reference, file.path), file.path);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the rendered launcher hands the command to /bin/sh -c byte for byte", () => {
    fc.assert(
      fc.property(commandArbitrary, fc.constantFrom(...MODES), (workerCommand, delivery) => {
        const doc = parseCloudConfig(renderCustomData({ delivery, workerCommand, agentBundle: "//" }));
        const commandFile = filesOf(doc).find((f) => f.path === WORKER_COMMAND_PATH)!;
        const result = runLauncher(writeFile(doc, LAUNCHER_PATH), fileBytes(commandFile));
        assert.equal(result.status, 0, result.stderr);
        assert.ok(result.argv, "the stub shell was not run");
        assert.equal(result.argv.count, "2");
        assert.equal(result.argv.flag, "-c");
        assert.ok(
          result.argv.command.equals(Buffer.from(workerCommand, "utf8")),
          `argv differs for ${JSON.stringify(workerCommand)}`,
        );
      }),
      { numRuns: 60 },
    );
  });

  for (const workerCommand of ADVERSARIAL_COMMANDS) {
    it(`passes ${JSON.stringify(workerCommand.length > 40 ? workerCommand.slice(0, 40) + "…" : workerCommand)} through unchanged`, () => {
      const doc = parseCloudConfig(
        renderCustomData({ delivery: DeliveryMode.Systemd, workerCommand, agentBundle: "//" }),
      );
      const commandFile = filesOf(doc).find((f) => f.path === WORKER_COMMAND_PATH)!;
      const result = runLauncher(writeFile(doc, LAUNCHER_PATH), fileBytes(commandFile));
      assert.equal(result.status, 0, result.stderr);
      assert.ok(result.argv!.command.equals(Buffer.from(workerCommand, "utf8")));
    });
  }
});
