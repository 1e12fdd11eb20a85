/**
 * The waiter: IMDS resourceId and azEnvironment (and, with --kept-file, vmId), then ARM reads
 * of the VM until a final state (armPoll.ts). Pure: time, randomness, HTTP, files and logging
 * all come through Env. It never reads the scale set.
 */
import { pollArm } from "./armPoll";
import { CLOUDS } from "./constants";
import { finish, log, newCtx } from "./context";
import { imdsGet, instancePath, parseAzEnvironment, parseVmUuid } from "./imds";
import { lookAtKeptFile, newKeptProof } from "./keptFile";
import { parseVmId } from "./resourceId";
import type { Env, Outcome, WaiterOptions } from "./types";

export async function runWaiter(env: Env, opts: WaiterOptions): Promise<Outcome> {
  const ctx = newCtx(env, opts.imdsUrl, opts.timeoutSeconds);
  const proof = opts.keptFile ? ` and ${opts.keptFile} to hold this VM's vmId` : "";
  log(ctx, `waiting for this VM's provisioningState to be Succeeded${proof} (timeout ${opts.timeoutSeconds} s)`);
  const vm = await imdsGet(ctx, "compute/resourceId", instancePath("resourceId"), parseVmId);
  if ("end" in vm) return vm.end;
  const az = await imdsGet(ctx, "compute/azEnvironment", instancePath("azEnvironment"), parseAzEnvironment);
  if ("end" in az) return az.end;
  let vmUuid: string | undefined;
  if (opts.keptFile) {
    const got = await imdsGet(ctx, "compute/vmId", instancePath("vmId"), parseVmUuid);
    if ("end" in got) return got.end;
    vmUuid = got.value;
  }
  const cloud = CLOUDS[az.value.toLowerCase()];
  if (!cloud && !opts.armUrl) {
    const reason = `IMDS reports azEnvironment "${az.value}", whose ARM endpoint this agent does not know: pass --arm-url`;
    return finish(ctx, { kind: "usage", reason }, reason).end;
  }
  const armBase = (opts.armUrl || cloud.arm).replace(/\/+$/, "");
  const resource = cloud ? cloud.resource : `${armBase}/`;
  const form =
    vm.value.kind === "uniform" ? "a Uniform scale-set instance" : "a Flexible scale-set member or standalone VM";
  log(ctx, `this VM is ${vm.value.id}, ${form}; cloud ${az.value}, ARM ${armBase}`);
  const kept = vmUuid === undefined ? undefined : newKeptProof(opts.keptFile!, vmUuid);
  if (kept && !(await lookAtKeptFile(ctx, kept)) && kept.seen === undefined) {
    log(ctx, `kept file ${kept.path} is absent: Succeeded alone will not start the worker (vmId ${kept.vmId})`);
  }
  ctx.last = "ARM has not answered";
  return pollArm(ctx, { vmId: vm.value.id, armBase, resource, kept });
}
