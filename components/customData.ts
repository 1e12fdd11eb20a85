/**
 * The only place the cloud-init document is produced: a pure function of plain values,
 * serialized by a YAML library. The worker command, which can hold any bytes, is base64
 * inside the YAML, so no quoting layer can alter it.
 */
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import {
  DRAIN_SCRIPT_PATH,
  DRAIN_UNIT,
  DEFAULT_INSTALL_NODEJS,
  DEFAULT_OVERPROVISION,
  DEFAULT_WORKER_USER,
  HEALTH_SOCKET_UNIT,
  LAUNCHER_PATH,
  MAX_CUSTOM_DATA_BYTES,
  NODE_INSTALLER_PATH,
  WAITER_PATH,
  WORKER_COMMAND_PATH,
} from "./defaults";
import { DeliveryMode, WorkerKind, modeCloudConfig } from "./delivery";
import { DRAIN_UNIT_PATH, renderDrainScript, renderDrainUnit } from "./drainUnit";
import { DEFAULT_HEALTH_PORT } from "./health";
import { healthFiles } from "./healthUnits";
import { renderLauncher } from "./launcher";
import { renderNodeInstaller } from "./nodeInstall";
import { DEFAULT_DRAIN_SECONDS } from "./spot";
import { NODE_INSTALL_UNIT_PATH, UNIT_PATH, renderNodeInstallUnit, renderWorkerUnit } from "./units";
import { validateCustomDataOptions } from "./validate";
import { loadAgentBundle } from "./waiterContract";

/** Plain-value options; the names match WorkerScaleSetArgs. */
export interface CustomDataOptions {
  delivery: DeliveryMode;
  /** A /bin/sh command line; any bytes but NUL, newlines included. */
  workerCommand: string;
  /** Default DEFAULT_WORKER_USER; created by cloud-init unless it is root. */
  workerUser?: string;
  /** Default WorkerKind.Foreground. */
  workerKind?: WorkerKind;
  /** Whether the scale set overprovisions; the waiter then also waits out the cull. Default DEFAULT_OVERPROVISION. */
  overprovision?: boolean;
  /** Install Ubuntu/Debian's `nodejs` package at first boot, retrying until timeoutSeconds, when the
   *  image has no `node` (hpc-node-install.service). Default DEFAULT_INSTALL_NODEJS. */
  installNodejs?: boolean;
  /** Seconds the worker gets between SIGTERM and SIGKILL when it is stopped (drain watcher, shutdown). Default DEFAULT_DRAIN_SECONDS. */
  drainSeconds?: number;
  /** Port of the health endpoint on 127.0.0.1 (the Application Health extension probes it). Default DEFAULT_HEALTH_PORT. */
  healthPort?: number;
  /** Waiter `--timeout`; default: the agent's own default. */
  timeoutSeconds?: number;
  /** Waiter `--imds-url` override (tests, emulators). */
  imdsUrl?: string;
  /** Waiter `--arm-url` override (tests, emulators). */
  armUrl?: string;
  /** The compiled waiter; default agent/dist/waiter.js. */
  agentBundle?: string;
}

export const CLOUD_CONFIG_HEADER = "#cloud-config";

/** One rendered file, as cloud-init's write_files takes it. */
interface WriteFile {
  path: string;
  content: string;
  permissions: string;
  encoding?: "b64" | "gz+b64";
  owner?: string;
}

/** The cloud-init text that ships to every VM of the scale set. Throws an InputPropertiesError
 *  naming each bad option (an empty command, a NUL byte, an unknown mode, …). */
export function renderCustomData(options: CustomDataOptions): string {
  const problems = validateCustomDataOptions(options);
  if (problems.length > 0) {
    throw new pulumi.InputPropertiesError({
      message: `renderCustomData: ${problems.map((p) => p.reason).join("; ")}`,
      errors: problems,
    });
  }
  const workerUser = options.workerUser ?? DEFAULT_WORKER_USER;
  const workerKind = options.workerKind ?? WorkerKind.Foreground;
  const overprovision = options.overprovision ?? DEFAULT_OVERPROVISION;
  const installNodejs = options.installNodejs ?? DEFAULT_INSTALL_NODEJS;
  const drainSeconds = options.drainSeconds ?? DEFAULT_DRAIN_SECONDS;
  const healthPort = options.healthPort ?? DEFAULT_HEALTH_PORT;
  const mode = modeCloudConfig(options.delivery);

  const files: WriteFile[] = [
    // gzip, then base64 (cloud-init's write_files `gz+b64`): the bundle (waiter, health server,
    // drain watcher) is minified JS, about 33 KB as text and 13 KB gzipped, and custom data is
    // capped at 65,535 bytes (MAX_CUSTOM_DATA_BYTES), so the user's own additions keep their room.
    {
      path: WAITER_PATH,
      content: zlib
        .gzipSync(Buffer.from(options.agentBundle ?? loadAgentBundle(), "utf8"), { level: 9 })
        .toString("base64"),
      encoding: "gz+b64",
      permissions: "0644",
    },
    {
      path: LAUNCHER_PATH,
      content: renderLauncher({
        keptFile: overprovision,
        workerKind,
        timeoutSeconds: options.timeoutSeconds,
        imdsUrl: options.imdsUrl,
        armUrl: options.armUrl,
        installNodejs,
      }),
      permissions: "0755",
    },
    {
      path: WORKER_COMMAND_PATH,
      content: Buffer.from(options.workerCommand, "utf8").toString("base64"),
      encoding: "b64",
      permissions: "0644",
    },
    {
      path: UNIT_PATH,
      content: renderWorkerUnit({ workerUser, workerKind, installNodejs, drainSeconds }),
      permissions: "0644",
    },
    ...(installNodejs ? nodeInstallFiles(options.timeoutSeconds) : []),
    {
      path: DRAIN_SCRIPT_PATH,
      content: renderDrainScript({ drainSeconds, imdsUrl: options.imdsUrl }),
      permissions: "0755",
    },
    { path: DRAIN_UNIT_PATH, content: renderDrainUnit({ installNodejs }), permissions: "0644" },
    // The health endpoint, in every mode: its socket binds early in every boot once enabled below.
    ...healthFiles({ port: healthPort, workerUser }),
    ...mode.extraFiles,
  ];

  const config: Record<string, unknown> = {};
  if (workerUser !== "root") {
    // "default" keeps the admin user that Azure provisions with the ssh key.
    config.users = [
      "default",
      { name: workerUser, gecos: "hpc-workers worker", shell: "/bin/bash", lock_passwd: true },
    ];
  }
  config.write_files = files;
  // The drain watcher and the health socket in every mode, enabled for the boots to come and started
  // now: cloud-init's first chance to start a unit it wrote (write_files runs after bootcmd).
  // --no-block: nothing in cloud-final may wait on a unit (binding a socket waits for nothing anyway).
  config.runcmd = [
    ["systemctl", "enable", "--now", "--no-block", DRAIN_UNIT],
    ["systemctl", "enable", "--now", "--no-block", HEALTH_SOCKET_UNIT],
    ...mode.runcmd,
  ];

  const body = YAML.stringify(config, { lineWidth: 0, minContentWidth: 0 });
  return `${CLOUD_CONFIG_HEADER}\n# hpc-workers: delivery=${options.delivery}; worker logs: journalctl -u hpc-worker\n${body}`;
}

/**
 * The Node.js installer and its unit. Not cloud-init's `packages:`: that module runs once per
 * instance, may give up on a dpkg lock held at first boot, and its failure strands the VM.
 */
function nodeInstallFiles(deadlineSeconds: number | undefined): WriteFile[] {
  return [
    { path: NODE_INSTALLER_PATH, content: renderNodeInstaller({ deadlineSeconds }), permissions: "0755" },
    { path: NODE_INSTALL_UNIT_PATH, content: renderNodeInstallUnit(), permissions: "0644" },
  ];
}

export interface EncodedCustomData {
  /** What goes into osProfile.customData. */
  base64: string;
  /** Size of the decoded binary array, the figure Azure limits. */
  bytes: number;
  /** Whether the text was gzip-compressed to fit; cloud-init detects gzip on its own. */
  gzipped: boolean;
}

/**
 * Plain base64 when it fits (readable in the portal and IMDS), gzip when it must.
 * Throws when even gzip does not fit MAX_CUSTOM_DATA_BYTES.
 */
export function encodeCustomData(text: string): EncodedCustomData {
  const plain = Buffer.from(text, "utf8");
  if (plain.length <= MAX_CUSTOM_DATA_BYTES) {
    return { base64: plain.toString("base64"), bytes: plain.length, gzipped: false };
  }
  const gz = zlib.gzipSync(plain, { level: 9 });
  if (gz.length > MAX_CUSTOM_DATA_BYTES) {
    throw new CustomDataTooLargeError(gz.length);
  }
  return { base64: gz.toString("base64"), bytes: gz.length, gzipped: true };
}

export class CustomDataTooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(
      `custom data is ${bytes} bytes even gzip-compressed, over Azure's limit of ${MAX_CUSTOM_DATA_BYTES} bytes; shorten workerCommand`,
    );
  }
}
