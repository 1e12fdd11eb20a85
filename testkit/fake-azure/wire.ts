/**
 * The wire formats both fakes speak: the HTTP FakeAzure (./index.ts) and the fleet simulation's
 * virtual-time region (scripts/fleet/region.ts). Error bodies, the token document, and the
 * rate-limit headers, each as Azure documents or was observed to send it (fixtures/SOURCES.md).
 * Pure: no sockets, no clocks.
 */
import * as fs from "fs";
import * as path from "path";

/** One answer before it meets a socket or a virtual Env. Header names lower case. */
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const FIXTURES = path.join(__dirname, "fixtures");

/** `responses["200"].body` of a fixture from Azure/azure-rest-api-specs (fixtures/SOURCES.md). */
export function fixtureBody(file: string): any {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")).responses["200"].body;
}

/** A deep copy of a fixture body (plain JSON), to fill in for one answer. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

const TOKEN_BODY = fixtureBody("imds-2023-07-01__GetIdentityToken.json");

export function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): WireAnswer {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * The rate-limit headers. ARM: https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 * ("Remaining requests"; the global one as ARM sends it since the token-bucket migration). Compute:
 * https://learn.microsoft.com/azure/virtual-machines/compute-throttling-limits (FAQ: "x-ms-ratelimit-remaining-resource").
 */
export const RATE_LIMIT_HEADER = {
  principalReads: "x-ms-ratelimit-remaining-subscription-reads",
  subscriptionReads: "x-ms-ratelimit-remaining-subscription-global-reads",
  tenantReads: "x-ms-ratelimit-remaining-tenant-reads",
  compute: "x-ms-ratelimit-remaining-resource",
} as const;

/**
 * Policy names in x-ms-ratelimit-remaining-resource. Compute documents the header and its
 * "policy;count" list, not the names of its token-bucket policies: these are illustrative, in the
 * shape of the names it sends (Microsoft.Compute/GetVMScaleSet30Min;1297). Nothing may rely on them.
 */
export const COMPUTE_POLICY = {
  vmPerVm: "Microsoft.Compute/GetVMScaleSetVM30Min",
  vmPerSubscription: "Microsoft.Compute/GetVMScaleSetVMSubscription30Min",
  scaleSetPerScaleSet: "Microsoft.Compute/GetVMScaleSet30Min",
  scaleSetPerSubscription: "Microsoft.Compute/GetVMScaleSetSubscription30Min",
} as const;

/** "policy;count,policy;count", counts floored at 0. */
export function computeRemaining(entries: Array<[string, number]>): string {
  return entries.map(([name, count]) => `${name};${Math.max(0, Math.floor(count))}`).join(",");
}

/** ARM bodies of the errors a waiter meets. */
export const armError = {
  /** ARM's own 429 (the principal's or the subscription's read bucket). */
  throttled(): unknown {
    return {
      error: {
        code: "TooManyRequests",
        message:
          "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00.",
      },
    };
  },
  /** Compute's 429; `policy` is the bucket that was empty. */
  computeThrottled(policy: string): unknown {
    return {
      error: {
        code: "OperationNotAllowed",
        message: "The server rejected the request because too many requests have been received for this subscription.",
        details: [{ code: "TooManyRequests", target: policy }],
      },
    };
  },
  /** 403 while the role assignment propagates (up to 10 min). */
  authorizationFailed(scope: string): unknown {
    return {
      error: {
        code: "AuthorizationFailed",
        message:
          "The client '11111111-2222-3333-4444-555555555555' with object id '11111111-2222-3333-4444-555555555555' does not have authorization " +
          `to perform action 'Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read' over scope '${scope}' or the scope is invalid. ` +
          "If access was recently granted, please refresh your credentials.",
      },
    };
  },
  /** A deleted scale-set instance (fixtures/SOURCES.md: openshift/openshift-azure#1540). */
  instanceNotFound(): unknown {
    return { error: { code: "NotFound", message: "The entity was not found in this Azure location." } };
  },
  missingAuthorization(): unknown {
    return {
      error: { code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." },
    };
  },
};

/** IMDS bodies (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#errors-and-debugging). */
export const imdsError = {
  missingMetadataHeader(): unknown {
    return { error: "Bad request. Required metadata header not specified" };
  },
  throttled(): unknown {
    return { error: "Too many requests" };
  },
};

/**
 * The managed-identity token document, numbers as strings, shaped like the IMDS spec's example
 * (https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token).
 */
export function tokenBody(accessToken: string, nowMs: number, lifetimeSeconds: number, resource: string): unknown {
  const now = Math.floor(nowMs / 1000);
  return {
    ...TOKEN_BODY,
    access_token: accessToken,
    expires_in: String(lifetimeSeconds),
    expires_on: String(now + lifetimeSeconds),
    ext_expires_in: String(lifetimeSeconds),
    not_before: String(now - 300),
    resource,
    token_type: "Bearer",
  };
}
