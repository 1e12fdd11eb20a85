/**
 * What the Node.js scenarios read on the console (hpc-node-install's journal lines and the
 * launcher's), and the checks they share: node came from the test's repository, the worker started
 * only after it, and only once.
 */
import * as assert from "assert";
import { repoVersion } from "./aptRepo";
import { Scenario } from "./scenario";
import { SerialLine } from "./serial";
import { guestEnvironment } from "./suite";
import { WORKER_STARTED } from "./worker";

/** The installer's first line when the image has no node. */
export const INSTALLER_STARTED = /hpc-node-install\[\d+\]: node is missing: installing nodejs/;
/** One line per attempt (components/nodeInstall.ts). */
export const INSTALLER_ATTEMPT = /hpc-node-install\[\d+\]: (attempt (\d+): .*)$/;
export const NODE_INSTALLED = /hpc-node-install\[\d+\]: attempt \d+: .*installed nodejs: node (v\S+?),/;
export const INSTALLER_GAVE_UP = /hpc-node-install\[\d+\]: attempt \d+: .*; giving up after \d+ s, /;
/** The launcher, while hpc-node-install works, and when there is no usable node. */
export const WAITING_FOR_NODE = /hpc-worker\[\d+\]: hpc-workers: waiting for Node\.js: hpc-node-install\.service/;
export const NO_USABLE_NODE = /hpc-worker\[\d+\]: hpc-workers: final: no usable Node\.js: /;
/** The Debian packages the repository serves for nodejs (nodejs, libnode108, …). */
const NODE_DEB = /\/nodejs_[^/]+\.deb$/;

/**
 * From the scenario's boot checks to node installed under TCG: one attempt takes 60–70 s with two
 * guests on 2 cores, 130–200 s when other jobs load the host; the fault scenarios add up to
 * their 120 s (locks) or 90 s (mirror) outage and a 30 s back-off.
 */
export const NODE_INSTALLED_TIMEOUT_MS = 600_000;

export function attemptLines(s: Scenario, since = 0): SerialLine[] {
  return s.guest.serial.filter(INSTALLER_ATTEMPT, since);
}

export async function waitForNodeInstalled(s: Scenario, timeoutMs = NODE_INSTALLED_TIMEOUT_MS): Promise<SerialLine> {
  return s.guest.serial.waitFor(NODE_INSTALLED, "hpc-node-install did not install node", timeoutMs, {
    failOn: WORKER_STARTED,
    aborted: () => s.guest.exited(),
  });
}

/**
 * node is the one Debian's package in the test's repository installed: the guest downloaded its
 * .deb once, and dpkg reports that version.
 */
export async function assertNodeFromRepository(s: Scenario): Promise<string> {
  const { aptRepo } = await guestEnvironment();
  const expected = repoVersion(aptRepo, "nodejs");
  assert.strictEqual(s.repo.served(NODE_DEB).length, 1, "the guest downloaded nodejs from the test's repository once");
  const r = await s.rootShell("dpkg-query -W -f '${Version}' nodejs && echo && node --version", 30_000);
  assert.strictEqual(r.exitcode, 0, `node is not installed in the guest: ${r.stderr}`);
  const [installed, node] = r.stdout.trim().split("\n");
  assert.strictEqual(installed, expected, "the installed nodejs is the repository's");
  return `${node} (Debian ${installed})`;
}

/** The worker's start came after node was installed, and it started once. */
export function assertWorkerStartedOnceAfter(s: Scenario, installed: SerialLine): void {
  const starts = s.guest.serial.filter(WORKER_STARTED);
  assert.strictEqual(starts.length, 1, "the worker started once");
  assert.ok(starts[0].offset > installed.offset, "the worker started before node was installed");
}
