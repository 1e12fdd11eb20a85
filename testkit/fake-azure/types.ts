/**
 * The types FakeAzure's users and its parts share (routes, faults, answers, scripted changes,
 * options, recorded calls) and the default ids it serves. No logic.
 */
import type { FakeInstance } from "./vmList";

/** The routes a fault can be queued on and calls are counted by. */
export const FAKE_ROUTES = ["imds", "token", "scheduledEvents", "vm", "scaleSet", "vmList"] as const;
export type FakeRoute = (typeof FAKE_ROUTES)[number];

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

/** One request as the fake's parts see it: routed, its query parsed, its headers' names lower case. */
export interface FakeRequest {
  route: FakeRoute | "other";
  method: string;
  /** Path without the query. */
  pathname: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Epoch ms (the fake's clock) when it arrived. */
  now: number;
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
