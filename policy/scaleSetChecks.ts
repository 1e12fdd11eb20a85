/**
 * The scale-set rules' checks: pure functions of the facts (or raw props) that return the reason of
 * every violation, and nothing for a value that is not known yet.
 */
import { ScaleSetFacts } from "./facts";
import { KEPT_FILE_PATH, LAUNCHER_PATH, MAX_CUSTOM_DATA_BYTES, WAITER_PATH } from "./generated/constants";
import { UNKNOWN, at, rawProps } from "./unknowns";
import { directWorkerStarts, goesThroughWaiter, runsWaiter } from "./waiterGate";

/** Soft budget for decoded custom data: 48 KiB, three quarters of the platform limit, so a user's own
 *  additions have room before `custom-data-platform-limit` blocks the deployment. A project choice. */
export const DEFAULT_CUSTOM_DATA_SOFT_BUDGET_BYTES = 49152;

export function checkWaiterIdentityAndOrchestration(facts: ScaleSetFacts): string[] {
  if (!runsWaiter(facts)) return [];
  const reasons: string[] = [];
  if (facts.identityType === undefined) {
    reasons.push(
      'runs the waiter but has no managed identity: set identity: { type: "SystemAssigned" } (the waiter reads the VM\'s provisioning state with it)',
    );
  } else if (facts.identityType !== UNKNOWN && !/systemassigned/i.test(facts.identityType)) {
    reasons.push(
      `runs the waiter but identity.type is "${facts.identityType}": set identity: { type: "SystemAssigned" }`,
    );
  }
  if (facts.orchestrationMode === undefined) {
    reasons.push('runs the waiter but orchestrationMode is not set: set orchestrationMode: "Uniform" explicitly');
  } else if (facts.orchestrationMode !== UNKNOWN && facts.orchestrationMode !== "Uniform") {
    reasons.push(
      `runs the waiter but orchestrationMode is "${facts.orchestrationMode}": set orchestrationMode: "Uniform" (Flexible rejects SystemAssigned identities and has no overprovisioning)`,
    );
  }
  return reasons;
}

export function checkOverprovisioning(facts: ScaleSetFacts): string[] {
  // Flexible orchestration has no overprovisioning; unknown values cannot be judged.
  if (facts.orchestrationMode === "Flexible" || facts.overprovision === UNKNOWN) return [];
  // The platform overprovisions a Uniform scale set when `overprovision` is unset.
  if (facts.overprovision === false) return [];
  const setting =
    facts.overprovision === undefined
      ? "overprovision is unset (the platform default is true)"
      : "overprovision is true";
  const reasons: string[] = [];
  if (facts.customData !== UNKNOWN && facts.customData !== undefined && !facts.shipsWaiter) {
    reasons.push(
      `${setting} and custom data starts software on every VM, including the extra VMs the platform creates and then deletes, without the waiter (${WAITER_PATH}): gate the worker with the waiter (WorkerScaleSet does) or set overprovision: false`,
    );
  }
  const bypassing = facts.customScripts.filter((cse) => {
    if (cse.command === UNKNOWN) return false;
    const gated = facts.shipsWaiter && typeof cse.command === "string" && goesThroughWaiter(cse.command, facts.files);
    return !gated && facts.doNotRunExtensionsOnOverprovisionedVMs !== true;
  });
  if (facts.shipsWaiter) {
    // A bypassing CSE's reason already asks for doNotRunExtensionsOnOverprovisionedVMs: one finding per cause.
    reasons.push(...keptProofGaps(facts, setting, bypassing.length === 0));
    for (const source of directWorkerStarts(facts)) {
      reasons.push(
        `${setting} and custom data ships the waiter but ${source} also starts the worker without it, so the extra VMs the platform creates and then deletes run it too: start the worker only through ${LAUNCHER_PATH} (the hpc-worker unit)`,
      );
    }
  }
  for (const cse of bypassing) {
    reasons.push(
      `${setting} and the Custom Script Extension "${cse.extensionName}" runs on overprovisioned VMs without the waiter: set doNotRunExtensionsOnOverprovisionedVMs: true, or run the worker through ${LAUNCHER_PATH}`,
    );
  }
  return reasons;
}

/**
 * The survival proof of an overprovisioned scale set (components/extensions.ts): the waiter runs
 * with `--kept-file`, a Custom Script Extension writes that file, and the platform runs it only
 * on the VMs it keeps (doNotRunExtensionsOnOverprovisionedVMs). Without the flag an extra that
 * reads Succeeded for a moment before its cull starts the worker; without the setting the file
 * appears on the extras too; without the writer no worker ever starts.
 */
function keptProofGaps(facts: ScaleSetFacts, setting: string, askForHold: boolean): string[] {
  const reasons: string[] = [];
  const text = facts.customData !== UNKNOWN && facts.customData !== undefined ? facts.customData.text : "";
  if (!text.includes("--kept-file")) {
    reasons.push(
      `${setting} and custom data runs the waiter without --kept-file, so an extra that reads Succeeded for a moment before the platform deletes it starts the worker: run it with --kept-file ${KEPT_FILE_PATH} (WorkerScaleSet does when overprovision is on) or set overprovision: false`,
    );
  }
  const hold = facts.doNotRunExtensionsOnOverprovisionedVMs;
  if (askForHold && (hold === false || hold === undefined)) {
    reasons.push(
      `${setting} and doNotRunExtensionsOnOverprovisionedVMs is not true, so the extension that writes the kept file also runs on the extra VMs and proves nothing: set doNotRunExtensionsOnOverprovisionedVMs: true`,
    );
  }
  const commands = facts.customScripts.map((cse) => cse.command);
  const writesKeptFile = commands.some((c) => c === UNKNOWN || (typeof c === "string" && c.includes(KEPT_FILE_PATH)));
  if (!writesKeptFile) {
    reasons.push(
      `${setting} and no Custom Script Extension writes the kept file ${KEPT_FILE_PATH}, so the waiter never sees the proof and no worker starts: add the kept-proof extension (WorkerScaleSet renders it) or set overprovision: false`,
    );
  }
  return reasons;
}

export function checkSshKeyOnly(props: unknown): string[] {
  const p = rawProps(props);
  const osProfile = at(p, "virtualMachineProfile", "osProfile");
  if (osProfile === undefined || osProfile === UNKNOWN) return [];
  if (at(osProfile, "windowsConfiguration") !== undefined) return [];
  const reasons: string[] = [];
  const linux = at(osProfile, "linuxConfiguration");
  if (linux === UNKNOWN) return reasons;
  const disable = at(linux, "disablePasswordAuthentication");
  if (disable !== UNKNOWN && disable !== true) {
    reasons.push(
      "password login is allowed: set virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication: true",
    );
  }
  const password = at(osProfile, "adminPassword");
  if (password !== undefined && password !== "") {
    reasons.push("osProfile.adminPassword is set: remove it and log in with an SSH key");
  }
  const keys = at(linux, "ssh", "publicKeys");
  if (keys !== UNKNOWN && (!Array.isArray(keys) || keys.length === 0)) {
    reasons.push("no SSH public key: add one to virtualMachineProfile.osProfile.linuxConfiguration.ssh.publicKeys");
  }
  return reasons;
}

export function checkCustomDataPlatformLimit(facts: ScaleSetFacts, limitBytes = MAX_CUSTOM_DATA_BYTES): string[] {
  const cd = facts.customData;
  if (cd === undefined || cd === UNKNOWN) return [];
  if (!cd.validBase64)
    return ["osProfile.customData is not base64: encode the cloud-init text with base64 (ARM rejects anything else)"];
  if (cd.bytes > limitBytes) {
    return [
      `custom data is ${cd.bytes} bytes decoded, over the platform limit of ${limitBytes}: gzip it, move files out of it, or ship them another way`,
    ];
  }
  return [];
}

export function checkCustomDataSoftBudget(facts: ScaleSetFacts, budgetBytes: number): string[] {
  const cd = facts.customData;
  if (cd === undefined || cd === UNKNOWN || !cd.validBase64) return [];
  // Over the platform limit is custom-data-platform-limit's violation; one finding per cause.
  if (cd.bytes > MAX_CUSTOM_DATA_BYTES) return [];
  if (cd.bytes > budgetBytes) {
    return [
      `custom data is ${cd.bytes} bytes decoded, over the soft budget of ${budgetBytes} (platform limit ${MAX_CUSTOM_DATA_BYTES}): trim it, or raise maxBytes in this policy's config`,
    ];
  }
  return [];
}
