/**
 * IMDS as the fake serves it: the checks every /metadata/ request meets, and the instance
 * metadata (/metadata/instance[/compute/...], JSON or format=text leaves) built from the IMDS
 * spec's GetInstanceMetadata example (fixtures/SOURCES.md) with this VM's ids.
 */
import { json } from "./faults";
import type { FakeAnswer, FakeRequest } from "./types";
import { clone, fixtureBody, imdsError } from "./wire";

const IMDS_BODY = fixtureBody("imds-2021-11-15__GetInstanceMetadata.json");
/** The vmId of the IMDS spec's GetInstanceMetadata example. */
export const DEFAULT_VM_ID: string = IMDS_BODY.compute.vmId;

/** Who this VM is, as compute metadata reports it. */
export interface ImdsIdentity {
  resourceId: string;
  /** The parent scale set of a Uniform instance, else undefined. */
  scaleSetId?: string;
  azEnvironment: string;
  vmId: string;
  /** compute/name. */
  vmName: string;
}

/** The error real IMDS gives a request it refuses, or undefined when the request may be answered. */
export function imdsRefusal({ route, method, query, headers }: FakeRequest): FakeAnswer | undefined {
  // https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#errors-and-debugging
  if (headers["metadata"] !== "true") return json(400, imdsError.missingMetadataHeader());
  if (headers["x-forwarded-for"] !== undefined)
    return json(400, { error: "Bad request. X-Forwarded-For header is not allowed" });
  if (method !== "GET" && !(route === "scheduledEvents" && method === "POST"))
    return json(405, { error: "Method not allowed" });
  if (!query["api-version"]) {
    return json(400, {
      error:
        "Bad request. api-version was not specified in the request. For more information refer to aka.ms/azureimds",
      "newest-versions": ["2023-07-01", "2021-12-13", "2021-11-15"],
    });
  }
  return undefined;
}

/** /metadata/instance and any node below it; format=text for leaves. */
export function instanceAnswer({ pathname, query }: FakeRequest, vm: ImdsIdentity): FakeAnswer {
  const doc: any = { compute: computeMetadata(vm) };
  let node: any = doc;
  for (const part of pathname
    .split("/")
    .slice(3)
    .filter((p) => p)) {
    if (node === null || typeof node !== "object" || !(part in node)) return json(404, { error: "Not found" });
    node = node[part];
  }
  if (query["format"] === "text") {
    if (node !== null && typeof node === "object")
      return json(400, { error: "Bad request. Format text is only supported for leaf nodes" });
    return {
      kind: "respond",
      status: 200,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: String(node),
    };
  }
  return json(200, node);
}

function computeMetadata(vm: ImdsIdentity): any {
  const compute = clone(IMDS_BODY.compute);
  const parts = vm.resourceId.split("/");
  compute.resourceId = vm.resourceId;
  compute.azEnvironment = vm.azEnvironment;
  compute.vmId = vm.vmId;
  compute.subscriptionId = parts[2];
  compute.resourceGroupName = parts[4];
  compute.name = vm.vmName;
  compute.vmScaleSetName = vm.scaleSetId ? vm.scaleSetId.split("/").pop() : "";
  // IMDS fills virtualMachineScaleSet.id only for Flexible members (see fixtures/SOURCES.md).
  delete compute.virtualMachineScaleSet;
  return compute;
}
