/**
 * FakeAzure: the one fake IMDS + ARM for every test that needs one (the agent's process and
 * unit tests, the qemu e2e, the benchmarks). One port serves IMDS (/metadata/...) and ARM
 * (/subscriptions/...), with the documented wire formats (bodies from ./fixtures, see
 * fixtures/SOURCES.md), scripted timelines of states and a queue of faults per route.
 *
 * The logic is socket-free (handle()), so the same fake also answers a virtual-clock Env
 * (./virtualEnv.ts); the HTTP server (./server.ts) only maps answers to sockets. This facade
 * keeps the state and routes each request to the part that answers it (README.md lists them).
 */
import { armAnswer } from "./arm";
import { ReadBudgets } from "./budgets";
import { fakeControl } from "./control";
import { FaultQueue } from "./faultQueue";
import { DEFAULT_VM_ID, imdsRefusal, instanceAnswer } from "./imds";
import { FakeScheduledEvents } from "./scheduledEvents";
import { FakeServer } from "./server";
import { DEFAULT_TOKEN_LIFETIME_SECONDS, TokenIssuer } from "./tokens";
import { DEFAULT_RESOURCE_ID } from "./types";
import type {
  FakeAnswer,
  FakeAzureOptions,
  FakeCall,
  FakeChange,
  FakeFault,
  FakeRequest,
  FakeRoute,
  FakeStateChange,
} from "./types";
import { DEFAULT_VM_LIST_PAGE_SIZE } from "./vmList";
import type { FakeInstance } from "./vmList";

export type { FakeInstance, FakeVmHealth } from "./vmList";
export * from "./types";
export { DEFAULT_VM_ID } from "./imds";
export { COMPUTE_BUCKET, PRINCIPAL_BUCKET } from "./budgets";
export { faults } from "./faults";

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
  readonly tokens: string[];
  /** IMDS Scheduled Events for this VM and its neighbours: schedule, acks, remove (./scheduledEvents.ts). */
  readonly scheduledEvents: FakeScheduledEvents;

  private readonly clock: () => number;
  private readonly log?: (line: string) => void;
  private readonly tokenIssuer: TokenIssuer;
  private readonly budgets: ReadBudgets;
  private readonly faultQueue: FaultQueue;
  private vmState: string;
  private scaleSetState: string;
  private identity = true;
  private rbac = true;
  private readonly scheduled: Array<{ at: number; change: FakeChange }> = [];
  private instances?: FakeInstance[];
  private readonly vmListPageSize: number;
  private readonly server = new FakeServer({
    control: (method, pathname, body) => fakeControl(this, method, pathname, body),
    handle: (req) => this.handle(req),
  });

  constructor(opts: FakeAzureOptions = {}) {
    this.resourceId = opts.resourceId ?? DEFAULT_RESOURCE_ID;
    const uniform = /^(.*\/virtualMachineScaleSets\/[^/]+)\/virtualMachines\/[^/]+$/i.exec(this.resourceId);
    this.scaleSetId = uniform ? uniform[1] : undefined;
    this.azEnvironment = opts.azEnvironment ?? "AzurePublicCloud";
    this.vmId = opts.vmId ?? DEFAULT_VM_ID;
    this.clock = opts.clock ?? Date.now;
    this.log = opts.log;
    this.tokenIssuer = new TokenIssuer(opts.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS);
    this.tokens = this.tokenIssuer.tokens;
    this.budgets = new ReadBudgets(opts.enforceBudgets ?? false);
    this.faultQueue = new FaultQueue(this.clock);
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

  /** ARM reads that found a bucket empty (answered 429 only when enforceBudgets). */
  get budgetViolations(): number {
    return this.budgets.violations;
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
    this.budgets.enforce = on;
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
    this.tokenIssuer.revokeAll();
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
      if (durationMs !== undefined) this.faultQueue.failFor(route, fault, durationMs, at);
      else this.faultQueue.fail(route, fault, times ?? 1);
    }
  }

  // ---- faults --------------------------------------------------------------------------

  /** The next `times` requests on `route` get `fault` instead of their answer. Queued faults are served in order. */
  fail(route: FakeRoute, fault: FakeFault, times = 1): this {
    this.faultQueue.fail(route, fault, times);
    return this;
  }

  /** Every request on `route` gets `fault` for the next durationMs. */
  failFor(route: FakeRoute, fault: FakeFault, durationMs: number): this {
    this.faultQueue.failFor(route, fault, durationMs);
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
    const request: FakeRequest = { route, method: req.method, pathname: url.pathname, query, headers, now };
    let answer = route !== "other" ? this.faultQueue.take(route, now) : undefined;
    if (!answer) answer = this.answer(request, req.body ?? "");
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

  private answer(request: FakeRequest, body: string): FakeAnswer {
    const { route, method, pathname, query, now } = request;
    if (pathname.indexOf("/metadata/") === 0) {
      const refusal = imdsRefusal(request);
      if (refusal) return refusal;
      if (route === "scheduledEvents") return this.scheduledEvents.handle(method, body, query["api-version"]);
      if (route === "token") return this.tokenIssuer.answer(query, now, this.identity);
      return instanceAnswer(request, this);
    }
    return armAnswer(request, {
      resourceId: this.resourceId,
      scaleSetId: this.scaleSetId,
      vmState: this.vmState,
      scaleSetState: this.scaleSetState,
      rbac: this.rbac,
      instances: () => this.listedInstances(),
      vmListPageSize: this.vmListPageSize,
      tokens: this.tokenIssuer,
      budgets: this.budgets,
    });
  }

  // ---- HTTP ----------------------------------------------------------------------------

  /** Starts serving; resolves the base URL (IMDS and ARM both live at it). */
  listen(port = 0, host = "127.0.0.1"): Promise<string> {
    return this.server.listen(port, host);
  }

  /** Stops serving and destroys open sockets (hung requests included). */
  close(): Promise<void> {
    return this.server.close();
  }
}
