/**
 * The kept proof in a real guest. The guest has no Azure VM agent, so the test plays the platform:
 * on a kept VM it runs the scale set's one extension's exact commandToExecute as root through
 * `/bin/sh -c` (the qemu guest agent's guest-exec), as the Custom Script Extension does; on an
 * overprovisioned extra it runs nothing, as doNotRunExtensionsOnOverprovisionedVMs guarantees.
 */
import * as assert from "assert";
import { KEPT_FILE_PATH, renderExtensions } from "../../components";
import { PROOF_WAIT_MS, JITTER } from "../../agent/src/core/pollPolicy";
import type { ExecResult } from "./qga";
import type { Scenario } from "./scenario";

/** An extension must return at once; one that waits holds back Succeeded. Generous for TCG. */
export const EXTENSION_RETURN_MAX_MS = 10_000;
/** The longest gap between two ARM reads while the kept file is absent (8 s + 15 % jitter), plus the console. */
export const PROOF_WAIT_READ_GAP_MS = PROOF_WAIT_MS * (1 + JITTER) + 1_000;
/** The waiter's line when it starts without the file (agent/src/core/waiter.ts). */
export const KEPT_FILE_ABSENT = new RegExp(`kept file ${KEPT_FILE_PATH} is absent`);

/** The commandToExecute of the scale set's one extension for these options, verbatim. */
export function extensionCommand(s: Scenario): string {
  const extensions = renderExtensions(s.options);
  assert.strictEqual(extensions.length, 1, `expected one extension, got ${extensions.map((e) => e.name).join(", ")}`);
  return extensions[0].settings.commandToExecute;
}

/** Runs the extension's command as the platform does on a kept VM; it must succeed and return within seconds. */
export async function playExtension(s: Scenario): Promise<ExecResult> {
  const r = await s.rootShell(extensionCommand(s), 60_000);
  assert.strictEqual(r.exitcode, 0, `the extension's command failed (${r.exitcode}): ${r.stderr}${r.stdout}`);
  assert.ok(
    r.ms <= EXTENSION_RETURN_MAX_MS,
    `the extension's command took ${r.ms} ms (limit ${EXTENSION_RETURN_MAX_MS})`,
  );
  return r;
}

/** What the guest's kept file holds and its mode, or undefined when it is absent. */
export async function readKeptFile(s: Scenario): Promise<{ text: string; mode: string } | undefined> {
  const r = await s.rootShell(
    `[ -e ${KEPT_FILE_PATH} ] || exit 3; stat -c %a ${KEPT_FILE_PATH}; cat ${KEPT_FILE_PATH}`,
    30_000,
  );
  if (r.exitcode === 3) return undefined;
  assert.strictEqual(r.exitcode, 0, `reading ${KEPT_FILE_PATH} failed: ${r.stderr}`);
  const newline = r.stdout.indexOf("\n");
  return { mode: r.stdout.slice(0, newline), text: r.stdout.slice(newline + 1) };
}

/** The guest's kept file holds exactly this VM's vmId (as IMDS, here the fake, gives it), mode 0644. */
export async function assertKeptFileHoldsThisVm(s: Scenario): Promise<void> {
  const kept = await readKeptFile(s);
  assert.ok(kept, `${KEPT_FILE_PATH} is absent`);
  assert.strictEqual(kept.text, `${s.fake.vmId}\n`);
  assert.strictEqual(kept.mode, "644");
}

/** The waiter never reads the scale set: the fake logged no call to it in the whole scenario. */
export function assertNoScaleSetRead(s: Scenario): void {
  assert.strictEqual(s.fake.callsTo("scaleSet").length, 0, "the waiter read the scale set");
}
