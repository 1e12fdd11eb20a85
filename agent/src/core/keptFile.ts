/**
 * The kept-file proof (--kept-file PATH). With `doNotRunExtensionsOnOverprovisionedVMs`, "extensions
 * are launched only on the requested number of VMs which are finally kept" (the Compute REST spec,
 * VirtualMachineScaleSetProperties), so an extension that writes this VM's IMDS compute/vmId to
 * PATH certifies that the scale set keeps this VM, at no ARM read. A file holding another vmId
 * proves nothing: it comes with an image captured from a worker. Files are read through
 * Env.readFile, so the core stays free of I/O.
 */
import { log } from "./context";
import type { Ctx } from "./context";

/** How often the file is re-read while it does not hold this VM's vmId: the exit comes ≤ 1 s after both conditions hold. */
export const KEPT_FILE_POLL_MS = 500;

export interface KeptProof {
  path: string;
  /** This VM's vmId, from IMDS compute/vmId. */
  vmId: string;
  /** The file held this VM's vmId at the last look. */
  held: boolean;
  /** What the last look found: undefined when absent or unreadable. */
  seen?: string;
  /** Contents of other VMs' files already reported, so each is logged once. */
  reported: string[];
}

export function newKeptProof(path: string, vmId: string): KeptProof {
  return { path, vmId, held: false, reported: [] };
}

/** vmIds are GUIDs, which IMDS and a writer may spell in either case; a trailing newline is not part of it. */
export function holdsVmId(text: string | undefined, vmId: string): boolean {
  return text !== undefined && text.trim().toLowerCase() === vmId.trim().toLowerCase();
}

/** Reads the file and updates the proof; logs what changed (another VM's id once per id). Returns `held`. */
export async function lookAtKeptFile(ctx: Ctx, proof: KeptProof): Promise<boolean> {
  const text = await ctx.env.readFile(proof.path);
  const held = holdsVmId(text, proof.vmId);
  const changed = text !== proof.seen;
  proof.seen = text;
  if (held && !proof.held) {
    log(ctx, `kept file ${proof.path} holds this VM's vmId ${proof.vmId}: the scale set keeps this VM`);
  } else if (!held && text !== undefined && changed) {
    const other = text.trim();
    if (proof.reported.indexOf(other) < 0) {
      proof.reported.push(other);
      log(
        ctx,
        `kept file ${proof.path} holds ${other ? `vmId "${other.slice(0, 80)}"` : "no vmId"}, not this VM's ${proof.vmId}: ` +
          "ignored, since a file from another VM (an image captured from a worker) proves nothing; waiting as if it were absent",
      );
    }
  } else if (!held && proof.held) {
    log(ctx, `kept file ${proof.path} no longer holds this VM's vmId; waiting for it again`);
  }
  proof.held = held;
  return held;
}
