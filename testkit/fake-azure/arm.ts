/**
 * ARM as the fake serves it: the checks every ARM request meets (api-version, a Bearer token
 * the fake issued and that has not expired, the role assignment, the read budgets), then the
 * VM, its scale set, or the scale set's VM list, with bodies from the Compute REST spec's
 * examples (fixtures/SOURCES.md) and the rate-limit headers ARM and Compute send.
 */
import type { ReadBudgets } from "./budgets";
import { faults, json } from "./faults";
import type { TokenIssuer } from "./tokens";
import type { FakeAnswer, FakeRequest } from "./types";
import { DEFAULT_RESOURCE_GROUP } from "./types";
import { vmListPage } from "./vmList";
import type { FakeInstance } from "./vmList";
import { COMPUTE_POLICY, RATE_LIMIT_HEADER, armError, clone, computeRemaining, fixtureBody } from "./wire";

const VMSS_VM_BODY = fixtureBody("compute-2024-11-01__VirtualMachineScaleSetVM_Get_WithUserData.json");
const VM_BODY = fixtureBody("compute-2024-11-01__VirtualMachine_Get.json");
const VMSS_BODY = fixtureBody("compute-2024-11-01__VirtualMachineScaleSet_Get_WithUserData.json");

/** What ARM knows when the request arrives. */
export interface ArmWorld {
  resourceId: string;
  /** The parent scale set of a Uniform instance, else undefined. */
  scaleSetId?: string;
  vmState: string;
  scaleSetState: string;
  /** Whether the role assignment has propagated. */
  rbac: boolean;
  /** What the VM list serves (asked only on that route). */
  instances: () => FakeInstance[];
  vmListPageSize: number;
  tokens: TokenIssuer;
  budgets: ReadBudgets;
}

/** ARM's answer to a request that is not for IMDS. */
export function armAnswer(req: FakeRequest, world: ArmWorld): FakeAnswer {
  const { route, method, pathname, query, headers, now } = req;
  if (route === "other") {
    return json(404, {
      error: { code: "InvalidResourceType", message: `The resource type could not be found for path '${pathname}'.` },
    });
  }
  if (method !== "GET")
    return json(405, {
      error: { code: "MethodNotAllowed", message: "The requested resource does not support the method." },
    });
  if (!query["api-version"]) {
    return json(400, {
      error: {
        code: "MissingApiVersionParameter",
        message: "The api-version query parameter (?api-version=) is required for all requests.",
      },
    });
  }
  const auth = /^Bearer (.+)$/.exec(headers["authorization"] || "");
  if (!auth) {
    return json(401, armError.missingAuthorization());
  }
  const expiry = world.tokens.expiryOf(auth[1]);
  if (expiry === undefined) {
    return json(
      401,
      { error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." } },
      {
        "www-authenticate":
          'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The access token is invalid."',
      },
    );
  }
  if (now >= expiry) {
    const f = faults.expiredToken() as { status: number; headers: Record<string, string>; body: string };
    return { kind: "respond", status: f.status, headers: f.headers, body: f.body };
  }
  const { resourceId, scaleSetId } = world;
  const id = route === "vm" ? resourceId : route === "vmList" ? `${scaleSetId}/virtualMachines` : scaleSetId!;
  if (!world.rbac) return json(403, armError.authorizationFailed(id));
  const budget = world.budgets.spend(id, now);
  const rateHeaders: Record<string, string> = {
    [RATE_LIMIT_HEADER.principalReads]: String(budget.principal),
    "x-ms-request-id": requestId(),
  };
  // Compute documents no policy name for the VM list; the fake sends none for it.
  if (route !== "vmList") {
    rateHeaders[RATE_LIMIT_HEADER.compute] = computeRemaining([
      [route === "vm" ? COMPUTE_POLICY.vmPerVm : COMPUTE_POLICY.scaleSetPerScaleSet, budget.resource],
    ]);
  }
  if (budget.throttledFor !== undefined) {
    const f = faults.throttled(Math.ceil(budget.throttledFor / 1000)) as {
      status: number;
      headers: Record<string, string>;
      body: string;
    };
    return { kind: "respond", status: 429, headers: { ...f.headers, ...rateHeaders }, body: f.body };
  }
  if (route === "vmList") {
    const page = vmListPage({
      scaleSetId: scaleSetId!,
      instances: world.instances(),
      query,
      baseUrl: `http://${headers["host"] || "127.0.0.1"}`,
      pageSize: world.vmListPageSize,
      now,
    });
    return json(200, page, rateHeaders);
  }
  const state = route === "vm" ? world.vmState : world.scaleSetState;
  if (state === "NotFound") {
    const body =
      route === "vm" && scaleSetId
        ? armError.instanceNotFound()
        : {
            error: {
              code: "ResourceNotFound",
              message: `The Resource '${id.replace(/^.*\/providers\//i, "")}' under resource group '${DEFAULT_RESOURCE_GROUP}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
            },
          };
    return json(404, body, rateHeaders);
  }
  return json(
    200,
    route === "vm" ? vmBody(resourceId, scaleSetId, state) : scaleSetBody(scaleSetId!, state),
    rateHeaders,
  );
}

function vmBody(resourceId: string, scaleSetId: string | undefined, state: string): unknown {
  const name = resourceId.split("/").pop()!;
  const body = clone(scaleSetId ? VMSS_VM_BODY : VM_BODY);
  body.id = resourceId;
  body.name = scaleSetId ? `${scaleSetId.split("/").pop()}_${name}` : name;
  if (scaleSetId) body.instanceId = name;
  body.properties.provisioningState = state;
  return body;
}

function scaleSetBody(scaleSetId: string, state: string): unknown {
  const body = clone(VMSS_BODY);
  body.id = scaleSetId;
  body.name = scaleSetId.split("/").pop();
  body.properties.provisioningState = state;
  body.properties.overprovision = true;
  return body;
}

function requestId(): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
}
