/**
 * FakeAzure: the one fake IMDS + ARM for every test that needs one (the agent's process and
 * unit tests, the qemu e2e, the benchmarks). One port serves IMDS (/metadata/...) and ARM
 * (/subscriptions/...), with the documented wire formats (bodies from ./fixtures, see
 * fixtures/SOURCES.md), scripted timelines of states and a queue of faults per route.
 *
 * The logic is socket-free (handle()), so the same fake also answers a virtual-clock Env
 * (./virtualEnv.ts); the HTTP server only maps answers to sockets.
 */
import * as http from "http";
import * as net from "net";
import { ARM_READS_PER_PRINCIPAL, COMPUTE_GET_VMSS_VM_PER_VM } from "../azureLimits";
import { DEFAULT_VM_LIST_PAGE_SIZE, vmListPage } from "./vmList";
import type { FakeInstance } from "./vmList";
import {
  COMPUTE_POLICY,
  RATE_LIMIT_HEADER,
  armError,
  computeRemaining,
  fixtureBody,
  imdsError,
  tokenBody,
} from "./wire";
import { FakeScheduledEvents, scheduledEventsControl } from "./scheduledEvents";

export type { FakeInstance, FakeVmHealth } from "./vmList";

export type FakeRoute = "imds" | "token" | "scheduledEvents" | "vm" | "scaleSet" | "vmList";

/** What a route answers instead of its normal reply. */
export type FakeFault =
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Accept the request and never answer (until close()). */
  | { hang: true }
  /** Destroy the connection without an answer. */
  | { reset: true }
  /** Connection refused: the virtual Env reports ECONNREFUSED; over TCP it is a reset (the port is open). */
  | { refuse: true };

/** A socket-free answer. */
export type FakeAnswer =
  /** delayMs: answered that long after the request (the first Scheduled Events call). */
  | { kind: "respond"; status: number; headers: Record<string, string>; body: string; delayMs?: number }
  | { kind: "hang" }
  | { kind: "reset" }
  | { kind: "refuse" };

export interface FakeChange {
  vm?: string;
  scaleSet?: string;
  /** Whether a managed identity is attached (false: the token endpoint answers 400 Identity not found). */
  identity?: boolean;
  /** Whether the role assignment has propagated (false: ARM answers 403 AuthorizationFailed). */
  rbac?: boolean;
  /** Queue a fault (as fail(), or failFor() when durationMs is given) from this moment on. */
  fault?: { route: FakeRoute; fault: FakeFault; times?: number; durationMs?: number };
}

export interface FakeAzureOptions {
  /** Default a Uniform instance id …/virtualMachineScaleSets/NAME/virtualMachines/0. */
  resourceId?: string;
  /** Default AzurePublicCloud. */
  azEnvironment?: string;
  /** IMDS compute/vmId; default the IMDS spec example's (DEFAULT_VM_ID). */
  vmId?: string;
  log?: (line: string) => void;
  /** Epoch ms; default Date.now. A virtual clock makes the fake usable in virtual time. */
  clock?: () => number;
  /** Default "Creating". */
  vmState?: string;
  /** Default "Updating". */
  scaleSetState?: string;
  /** expires_in of issued tokens; default 3599 (as in the Entra doc sample). */
  tokenLifetimeSeconds?: number;
  /**
   * The scale set's instances, as "Virtual Machine Scale Set VMs - List" serves them (Uniform
   * ids only). Default: this VM alone, in its current state, without vmHealth.
   */
  instances?: FakeInstance[];
  /** Items per page of that list (default DEFAULT_VM_LIST_PAGE_SIZE, small so that paging happens). */
  vmListPageSize?: number;
  /** Answer 429 when a per-resource Compute bucket (36, +12/min) or the principal's ARM read bucket (250, +25/s) is empty. Default false (the buckets are still counted: see budgetViolations). */
  enforceBudgets?: boolean;
}

export interface FakeCall {
  /** Epoch ms (the fake's clock) when the request arrived. */
  at: number;
  method: string;
  /** Path without the query. */
  path: string;
  /** 0 when no HTTP answer was given (hang, reset, refuse). */
  status: number;
  route: FakeRoute | "other";
  query: Record<string, string>;
  /** Request headers, names lower case. */
  headers: Record<string, string>;
  fault?: "hang" | "reset" | "refuse";
}

export interface FakeStateChange {
  at: number;
  target: "vm" | "scaleSet" | "identity" | "rbac";
  state: string;
}

export const DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const DEFAULT_RESOURCE_GROUP = "hpc-rg";
export const DEFAULT_SCALE_SET_NAME = "workers-vmss";
export const DEFAULT_RESOURCE_ID =
  `/subscriptions/${DEFAULT_SUBSCRIPTION_ID}/resourceGroups/${DEFAULT_RESOURCE_GROUP}` +
  `/providers/Microsoft.Compute/virtualMachineScaleSets/${DEFAULT_SCALE_SET_NAME}/virtualMachines/0`;
export const FLEXIBLE_RESOURCE_ID = `/subscriptions/${DEFAULT_SUBSCRIPTION_ID}/resourceGroups/${DEFAULT_RESOURCE_GROUP}/providers/Microsoft.Compute/virtualMachines/workers-flex_1a2b3c4d`;

/** The buckets this fake counts, from the one source of limits (../azureLimits.ts). */
export const COMPUTE_BUCKET = COMPUTE_GET_VMSS_VM_PER_VM;
export const PRINCIPAL_BUCKET = ARM_READS_PER_PRINCIPAL;

const VMSS_VM_BODY = fixtureBody("compute-2024-11-01__VirtualMachineScaleSetVM_Get_WithUserData.json");
const VM_BODY = fixtureBody("compute-2024-11-01__VirtualMachine_Get.json");
const VMSS_BODY = fixtureBody("compute-2024-11-01__VirtualMachineScaleSet_Get_WithUserData.json");
const IMDS_BODY = fixtureBody("imds-2021-11-15__GetInstanceMetadata.json");
/** The vmId of the IMDS spec's GetInstanceMetadata example. */
export const DEFAULT_VM_ID: string = IMDS_BODY.compute.vmId;

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeAnswer {
  return {
    kind: "respond",
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

/** Documented bodies of the faults the agent must survive. */
export const faults = {
  status(status: number, body = "", headers: Record<string, string> = {}): FakeFault {
    return { status, body, headers };
  },
  /** ARM 429. retryAfter: seconds (number), or any header value (an HTTP date); header: which header carries it. */
  throttled(retryAfter?: number | string, header = "Retry-After"): FakeFault {
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (retryAfter !== undefined) headers[header] = String(retryAfter);
    return {
      status: 429,
      headers,
      body: JSON.stringify(armError.throttled()),
    };
  },
  serviceUnavailable(retryAfterSeconds?: number): FakeFault {
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (retryAfterSeconds !== undefined) headers["Retry-After"] = String(retryAfterSeconds);
    return {
      status: 503,
      headers,
      body: JSON.stringify({ error: { code: "ServiceUnavailable", message: "The service is unavailable." } }),
    };
  },
  serverError(): FakeFault {
    return {
      status: 500,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({
        error: {
          code: "InternalServerError",
          message: "Encountered internal server error. Diagnostic information: timestamp '20250101T000000Z'.",
        },
      }),
    };
  },
  /** ARM 403 while the role assignment propagates (up to 10 min). */
  rbacNotPropagated(scope = DEFAULT_RESOURCE_ID): FakeFault {
    return {
      status: 403,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(armError.authorizationFailed(scope)),
    };
  },
  /** The identity endpoint before the identity is attached. */
  identityNotFound(): FakeFault {
    return {
      status: 400,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ error: "invalid_request", error_description: "Identity not found" }),
    };
  },
  /** IMDS 410: "IMDS is going through updates and will be available in a maximum of 70 seconds". */
  imdsGone(): FakeFault {
    return {
      status: 410,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ error: "Gone" }),
    };
  },
  imdsNotFound(): FakeFault {
    return {
      status: 404,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ error: "Not found" }),
    };
  },
  imdsThrottled(): FakeFault {
    return {
      status: 429,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(imdsError.throttled()),
    };
  },
  /** ARM 401 for a token past its expiry. */
  expiredToken(): FakeFault {
    return {
      status: 401,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "www-authenticate":
          'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The access token has expired."',
      },
      body: JSON.stringify({
        error: {
          code: "ExpiredAuthenticationToken",
          message: "The access token expiry UTC time is earlier than current UTC time.",
        },
      }),
    };
  },
  /** A 200 whose body is not what the route serves. */
  garbage(body = "<html><body>502 Bad Gateway</body></html>"): FakeFault {
    return { status: 200, headers: { "content-type": "text/html" }, body };
  },
  hang(): FakeFault {
    return { hang: true };
  },
  reset(): FakeFault {
    return { reset: true };
  },
  refuse(): FakeFault {
    return { refuse: true };
  },
};

interface Bucket {
  tokens: number;
  at: number;
}

interface QueuedFault {
  fault: FakeFault;
  times: number;
  until?: number;
}

export class FakeAzure {
  readonly resourceId: string;
  readonly scaleSetId?: string;
  readonly azEnvironment: string;
  /** What IMDS compute/vmId answers: the id an extension writes to the kept file. */
  readonly vmId: string;
  readonly calls: FakeCall[] = [];
  /** Every state change, at the time it took effect (scheduled ones at their scheduled time). */
  readonly changes: FakeStateChange[] = [];
  /** Access tokens issued, in order. */
  readonly tokens: string[] = [];
  /** IMDS Scheduled Events for this VM and its neighbours: schedule, acks, remove (./scheduledEvents.ts). */
  readonly scheduledEvents: FakeScheduledEvents;
  /** ARM reads that found a bucket empty (answered 429 only when enforceBudgets). */
  budgetViolations = 0;

  private readonly clock: () => number;
  private readonly log?: (line: string) => void;
  private readonly lifetimeSeconds: number;
  private enforceBudgets: boolean;
  private vmState: string;
  private scaleSetState: string;
  private identity = true;
  private rbac = true;
  private readonly scheduled: Array<{ at: number; change: FakeChange }> = [];
  private readonly queues: Record<FakeRoute, QueuedFault[]> = {
    imds: [],
    token: [],
    scheduledEvents: [],
    vm: [],
    scaleSet: [],
    vmList: [],
  };
  private instances?: FakeInstance[];
  private readonly vmListPageSize: number;
  private readonly issued = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private server?: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private serial = 0;

  constructor(opts: FakeAzureOptions = {}) {
    this.resourceId = opts.resourceId ?? DEFAULT_RESOURCE_ID;
    const uniform = /^(.*\/virtualMachineScaleSets\/[^/]+)\/virtualMachines\/[^/]+$/i.exec(this.resourceId);
    this.scaleSetId = uniform ? uniform[1] : undefined;
    this.azEnvironment = opts.azEnvironment ?? "AzurePublicCloud";
    this.vmId = opts.vmId ?? DEFAULT_VM_ID;
    this.clock = opts.clock ?? Date.now;
    this.log = opts.log;
    this.lifetimeSeconds = opts.tokenLifetimeSeconds ?? 3599;
    this.enforceBudgets = opts.enforceBudgets ?? false;
    this.vmState = opts.vmState ?? "Creating";
    this.scaleSetState = opts.scaleSetState ?? "Updating";
    this.instances = opts.instances;
    this.vmListPageSize = opts.vmListPageSize ?? DEFAULT_VM_LIST_PAGE_SIZE;
    this.scheduledEvents = new FakeScheduledEvents(this.clock, this.vmName);
  }

  /** IMDS compute/name: "{scale-set-name}_{instance-id}" for a Uniform instance, as Scheduled Events' Resources spell it
   *  (https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-instance-ids); else the VM's name. */
  get vmName(): string {
    const last = this.resourceId.split("/").pop()!;
    return this.scaleSetId ? `${this.scaleSetId.split("/").pop()}_${last}` : last;
  }

  // ---- state and timelines -------------------------------------------------------------

  setVmState(state: string): void {
    this.apply({ vm: state }, this.clock());
  }

  setScaleSetState(state: string): void {
    this.apply({ scaleSet: state }, this.clock());
  }

  setIdentityAttached(attached: boolean): void {
    this.apply({ identity: attached }, this.clock());
  }

  setRbacReady(ready: boolean): void {
    this.apply({ rbac: ready }, this.clock());
  }

  /** What "Virtual Machine Scale Set VMs - List" serves from now on (each instance's state and vmHealth). */
  setInstances(instances: FakeInstance[]): void {
    this.instances = instances.map((i) => ({ ...i }));
  }

  private listedInstances(): FakeInstance[] {
    if (this.instances) return this.instances;
    return [{ instanceId: this.resourceId.split("/").pop()!, provisioningState: this.vmState }];
  }

  setEnforceBudgets(on: boolean): void {
    this.enforceBudgets = on;
  }

  /** Applies `change` afterMs from now (lazily, at the first request or read after that time, stamped with the scheduled time). */
  schedule(afterMs: number, change: FakeChange): this {
    this.scheduled.push({ at: this.clock() + afterMs, change });
    this.scheduled.sort((a, b) => a.at - b.at);
    return this;
  }

  /** A scripted timeline: each step's `at` is ms from now. */
  timeline(steps: Array<{ at: number } & FakeChange>): this {
    for (const { at, ...change } of steps) this.schedule(at, change);
    return this;
  }

  get state(): { vm: string; scaleSet: string; identity: boolean; rbac: boolean } {
    this.applyDue();
    return { vm: this.vmState, scaleSet: this.scaleSetState, identity: this.identity, rbac: this.rbac };
  }

  /** When the VM (or scale set) last took this state, or undefined. */
  changedAt(target: FakeStateChange["target"], state: string): number | undefined {
    this.applyDue();
    for (let i = this.changes.length - 1; i >= 0; i--) {
      if (this.changes[i].target === target && this.changes[i].state === state) return this.changes[i].at;
    }
    return undefined;
  }

  /** Invalidates every token issued so far: ARM answers 401 InvalidAuthenticationToken to them. */
  revokeTokens(): void {
    this.issued.clear();
  }

  // ---- faults --------------------------------------------------------------------------

  /** The next `times` requests on `route` get `fault` instead of their answer. Queued faults are served in order. */
  fail(route: FakeRoute, fault: FakeFault, times = 1): this {
    this.queues[route].push({ fault, times });
    return this;
  }

  /** Every request on `route` gets `fault` for the next durationMs. */
  failFor(route: FakeRoute, fault: FakeFault, durationMs: number): this {
    this.queues[route].push({ fault, times: Infinity, until: this.clock() + durationMs });
    return this;
  }

  /** Every call on a route, in order: e.g. callsTo("scaleSet").length, the scale-set reads (the waiter makes none). */
  callsTo(route: FakeRoute): FakeCall[] {
    return this.calls.filter((c) => c.route === route);
  }

  // ---- the socket-free core ------------------------------------------------------------

  /** Answers one request as IMDS/ARM would, records it in calls. */
  handle(req: {
    method: string;
    url: string;
    headers: Record<string, string | string[] | undefined>;
    body?: string;
  }): FakeAnswer {
    const now = this.clock();
    this.applyDue();
    const url = new URL(req.url, "http://fake.invalid");
    const headers: Record<string, string> = {};
    for (const name of Object.keys(req.headers)) {
      const v = req.headers[name];
      if (v !== undefined) headers[name.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    }
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const route = this.routeOf(url.pathname);
    let answer = route !== "other" ? this.takeFault(route, now) : undefined;
    if (!answer) answer = this.answer(route, req.method, url.pathname, query, headers, now, req.body ?? "");
    if (answer.kind === "respond")
      answer.headers = { date: new Date(now + (answer.delayMs ?? 0)).toUTCString(), ...answer.headers };
    const status = answer.kind === "respond" ? answer.status : 0;
    const call: FakeCall = { at: now, method: req.method, path: url.pathname, status, route, query, headers };
    if (answer.kind !== "respond") call.fault = answer.kind;
    this.calls.push(call);
    if (this.log) this.log(`${req.method} ${url.pathname}${url.search} -> ${status || answer.kind}`);
    return answer;
  }

  private routeOf(pathname: string): FakeRoute | "other" {
    // With a trailing slash too: MSAL (under @azure/identity's ManagedIdentityCredential) canonicalizes an
    // AZURE_POD_IDENTITY_AUTHORITY_HOST endpoint to ".../oauth2/token/", which is how the SDK reaches this fake.
    if (pathname.replace(/\/$/, "") === "/metadata/identity/oauth2/token") return "token";
    if (pathname === "/metadata/scheduledevents") return "scheduledEvents";
    if (pathname === "/metadata/instance" || pathname.indexOf("/metadata/instance/") === 0) return "imds";
    const p = pathname.toLowerCase().replace(/\/+$/, "");
    if (p === this.resourceId.toLowerCase()) return "vm";
    if (this.scaleSetId && p === this.scaleSetId.toLowerCase()) return "scaleSet";
    if (this.scaleSetId && p === `${this.scaleSetId.toLowerCase()}/virtualmachines`) return "vmList";
    return "other";
  }

  private takeFault(route: FakeRoute, now: number): FakeAnswer | undefined {
    const queue = this.queues[route];
    while (queue.length) {
      const head = queue[0];
      if (head.until !== undefined && now >= head.until) {
        queue.shift();
        continue;
      }
      if (--head.times <= 0) queue.shift();
      const f = head.fault;
      if ("hang" in f) return { kind: "hang" };
      if ("reset" in f) return { kind: "reset" };
      if ("refuse" in f) return { kind: "refuse" };
      return { kind: "respond", status: f.status, headers: { ...(f.headers || {}) }, body: f.body ?? "" };
    }
    return undefined;
  }

  private answer(
    route: FakeRoute | "other",
    method: string,
    pathname: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    now: number,
    body: string,
  ): FakeAnswer {
    if (pathname.indexOf("/metadata/") === 0) {
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
      if (route === "scheduledEvents") return this.scheduledEvents.handle(method, body, query["api-version"]);
      return route === "token" ? this.token(query, now) : this.instance(pathname, query);
    }
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
    const expiry = this.issued.get(auth[1]);
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
    const id =
      route === "vm" ? this.resourceId : route === "vmList" ? `${this.scaleSetId}/virtualMachines` : this.scaleSetId!;
    if (!this.rbac) return json(403, armError.authorizationFailed(id));
    const budget = this.spend(id, now);
    const rateHeaders: Record<string, string> = {
      [RATE_LIMIT_HEADER.principalReads]: String(budget.principal),
      "x-ms-request-id": this.requestId(),
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
        scaleSetId: this.scaleSetId!,
        instances: this.listedInstances(),
        query,
        baseUrl: `http://${headers["host"] || "127.0.0.1"}`,
        pageSize: this.vmListPageSize,
        now,
      });
      return json(200, page, rateHeaders);
    }
    const state = route === "vm" ? this.vmState : this.scaleSetState;
    if (state === "NotFound") {
      const body =
        route === "vm" && this.scaleSetId
          ? armError.instanceNotFound()
          : {
              error: {
                code: "ResourceNotFound",
                message: `The Resource '${id.replace(/^.*\/providers\//i, "")}' under resource group '${DEFAULT_RESOURCE_GROUP}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
              },
            };
      return json(404, body, rateHeaders);
    }
    return json(200, route === "vm" ? this.vmBody(state) : this.scaleSetBody(state), rateHeaders);
  }

  private vmBody(state: string): unknown {
    const name = this.resourceId.split("/").pop()!;
    const body = clone(this.scaleSetId ? VMSS_VM_BODY : VM_BODY);
    body.id = this.resourceId;
    body.name = this.scaleSetId ? `${this.scaleSetId.split("/").pop()}_${name}` : name;
    if (this.scaleSetId) body.instanceId = name;
    body.properties.provisioningState = state;
    return body;
  }

  private scaleSetBody(state: string): unknown {
    const body = clone(VMSS_BODY);
    body.id = this.scaleSetId;
    body.name = this.scaleSetId!.split("/").pop();
    body.properties.provisioningState = state;
    body.properties.overprovision = true;
    return body;
  }

  private instance(pathname: string, query: Record<string, string>): FakeAnswer {
    const doc: any = { compute: this.compute() };
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

  private compute(): any {
    const compute = clone(IMDS_BODY.compute);
    const parts = this.resourceId.split("/");
    compute.resourceId = this.resourceId;
    compute.azEnvironment = this.azEnvironment;
    compute.vmId = this.vmId;
    compute.subscriptionId = parts[2];
    compute.resourceGroupName = parts[4];
    compute.name = this.vmName;
    compute.vmScaleSetName = this.scaleSetId ? this.scaleSetId.split("/").pop() : "";
    // IMDS fills virtualMachineScaleSet.id only for Flexible members (see fixtures/SOURCES.md).
    delete compute.virtualMachineScaleSet;
    return compute;
  }

  private token(query: Record<string, string>, now: number): FakeAnswer {
    if (!this.identity) {
      const f = faults.identityNotFound() as { status: number; headers: Record<string, string>; body: string };
      return { kind: "respond", status: f.status, headers: f.headers, body: f.body };
    }
    if (!query["resource"]) {
      return json(400, {
        error: "invalid_request",
        error_description: "Required query variable 'resource' is missing",
      });
    }
    const value = `fake-access-token-${++this.serial}-${Math.random().toString(36).slice(2)}`;
    this.issued.set(value, now + this.lifetimeSeconds * 1000);
    this.tokens.push(value);
    return json(200, tokenBody(value, now, this.lifetimeSeconds, query["resource"]));
  }

  private requestId(): string {
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
    return `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
  }

  /** Takes one token from the resource's Compute bucket and the principal's read bucket. */
  private spend(resourceId: string, now: number): { resource: number; principal: number; throttledFor?: number } {
    const take = (key: string, spec: { capacity: number; refillPerSecond: number }) => {
      const b = this.buckets.get(key) || { tokens: spec.capacity, at: now };
      b.tokens = Math.min(spec.capacity, b.tokens + ((now - b.at) / 1000) * spec.refillPerSecond);
      b.at = now;
      this.buckets.set(key, b);
      return b;
    };
    const resource = take(resourceId.toLowerCase(), COMPUTE_BUCKET);
    const principal = take("principal", PRINCIPAL_BUCKET);
    if (resource.tokens < 1 || principal.tokens < 1) {
      this.budgetViolations++;
      const wait = Math.max(
        resource.tokens < 1 ? ((1 - resource.tokens) / COMPUTE_BUCKET.refillPerSecond) * 1000 : 0,
        principal.tokens < 1 ? ((1 - principal.tokens) / PRINCIPAL_BUCKET.refillPerSecond) * 1000 : 0,
      );
      if (this.enforceBudgets) return { resource: 0, principal: Math.floor(principal.tokens), throttledFor: wait };
    }
    resource.tokens -= 1;
    principal.tokens -= 1;
    return { resource: Math.max(0, Math.floor(resource.tokens)), principal: Math.max(0, Math.floor(principal.tokens)) };
  }

  private applyDue(): void {
    const now = this.clock();
    while (this.scheduled.length && this.scheduled[0].at <= now) {
      const { at, change } = this.scheduled.shift()!;
      this.apply(change, at);
    }
  }

  private apply(change: FakeChange, at: number): void {
    if (change.vm !== undefined) {
      this.vmState = change.vm;
      this.changes.push({ at, target: "vm", state: change.vm });
    }
    if (change.scaleSet !== undefined) {
      this.scaleSetState = change.scaleSet;
      this.changes.push({ at, target: "scaleSet", state: change.scaleSet });
    }
    if (change.identity !== undefined) {
      this.identity = change.identity;
      this.changes.push({ at, target: "identity", state: String(change.identity) });
    }
    if (change.rbac !== undefined) {
      this.rbac = change.rbac;
      this.changes.push({ at, target: "rbac", state: String(change.rbac) });
    }
    if (change.fault !== undefined) {
      const { route, fault, times, durationMs } = change.fault;
      this.queues[route].push(
        durationMs !== undefined ? { fault, times: Infinity, until: at + durationMs } : { fault, times: times ?? 1 },
      );
    }
  }

  // ---- control (for shells and other processes) -----------------------------------------

  private control(method: string, pathname: string, body: string): FakeAnswer | undefined {
    const text = body.trim();
    const ok = json(200, { ok: true, state: this.state });
    if (method === "GET" && pathname === "/_fake/calls") return json(200, this.calls);
    if (method === "GET" && pathname === "/_fake/state") return json(200, { ...this.state, changes: this.changes });
    if (pathname.indexOf("/_fake/scheduled-events") === 0)
      return scheduledEventsControl(this.scheduledEvents, method, pathname, text);
    if (method !== "POST") return undefined;
    switch (pathname) {
      case "/_fake/vm-state":
        this.setVmState(text);
        return ok;
      case "/_fake/scale-set-state":
        this.setScaleSetState(text);
        return ok;
      case "/_fake/identity":
        this.setIdentityAttached(text !== "missing" && text !== "false");
        return ok;
      case "/_fake/rbac":
        this.setRbacReady(text !== "pending" && text !== "false");
        return ok;
      case "/_fake/instances": {
        // [{"instanceId":"0","provisioningState":"Succeeded","health":"healthy"}, ...]
        try {
          this.setInstances(JSON.parse(text));
        } catch (e) {
          return json(400, { error: "body must be a JSON array of {instanceId, provisioningState?, health?}" });
        }
        return ok;
      }
      case "/_fake/revoke-tokens":
        this.revokeTokens();
        return ok;
      case "/_fake/fault": {
        // {"route":"vm","fault":{"status":429,"headers":{"Retry-After":"5"}},"times":2} or {"...","durationMs":70000}
        let spec: { route: FakeRoute; fault: FakeFault; times?: number; durationMs?: number };
        try {
          spec = JSON.parse(text);
        } catch (e) {
          return json(400, { error: "body must be JSON: {route, fault, times?, durationMs?}" });
        }
        if (!(spec.route in this.queues))
          return json(400, { error: `route must be one of ${Object.keys(this.queues).join(", ")}` });
        if (spec.durationMs !== undefined) this.failFor(spec.route, spec.fault, spec.durationMs);
        else this.fail(spec.route, spec.fault, spec.times ?? 1);
        return ok;
      }
      default:
        return undefined;
    }
  }

  // ---- HTTP ----------------------------------------------------------------------------

  /** Starts serving; resolves the base URL (IMDS and ARM both live at it). */
  listen(port = 0, host = "127.0.0.1"): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const pathname = (req.url || "/").split("?")[0];
        let answer: FakeAnswer | undefined;
        if (pathname.indexOf("/_fake/") === 0) {
          answer =
            this.control(req.method || "GET", pathname, Buffer.concat(chunks).toString("utf8")) ||
            json(404, { error: "unknown control path" });
        } else {
          try {
            answer = this.handle({
              method: req.method || "GET",
              url: req.url || "/",
              headers: req.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            });
          } catch (e) {
            answer = json(500, { error: `fake-azure bug: ${(e as Error).message}` });
          }
        }
        if (answer.kind === "hang") return;
        if (answer.kind === "reset" || answer.kind === "refuse") {
          req.socket.destroy();
          return;
        }
        const reply = answer;
        const write = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        };
        if (reply.delayMs) setTimeout(write, reply.delayMs).unref();
        else write();
      });
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        const addr = server.address() as net.AddressInfo;
        const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.indexOf(":") >= 0 ? `[${host}]` : host;
        resolve(`http://${shown}:${addr.port}`);
      });
    });
  }

  /** Stops serving and destroys open sockets (hung requests included). */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
