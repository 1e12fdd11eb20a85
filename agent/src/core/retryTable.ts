/**
 * The retry taxonomy: the one table of what ends the wait and what is retried, for IMDS (the
 * instance metadata and the managed-identity token) and ARM. Rows are tried in order; the
 * first that matches decides. Every row says why, and its comment says where that comes from.
 *
 * Modelled on azure-sdk-for-js core-rest-pipeline, whose default retry policy is
 * throttlingRetryStrategy (429 and 503 with a Retry-After) then exponentialRetryStrategy
 * (transport errors, 408, and 5xx except 501 and 505; everything else is final):
 * https://github.com/Azure/azure-sdk-for-js/blob/main/sdk/core/core-rest-pipeline/src/retryStrategies/exponentialRetryStrategy.ts
 * https://github.com/Azure/azure-sdk-for-js/blob/main/sdk/core/core-rest-pipeline/src/retryStrategies/throttlingRetryStrategy.ts
 * The agent differs where a VM at boot differs from an SDK client: it retries every transport
 * error, and the few 4xx that Azure documents as passing (IMDS 404/410, "Identity not found",
 * ARM 403 while RBAC propagates, ARM 401 once with a fresh token).
 *
 * How long each retry waits is the poll policy's business (pollPolicy.ts); a Retry-After, on
 * any answer, is enforced apart from this table (context.ts, sendAt).
 */
import type { HttpResult } from "./types";

export type Service = "imds" | "arm";

/**
 * - answer: read the body (a body that cannot be read is retried as transient);
 * - gone: final, exit 3; refused: final, exit 6;
 * - reauthenticate: get a fresh token and retry at once, once (then transient);
 * - forbidden: retried with the RBAC-propagation pacing; throttled: retried with the 429
 *   back-off; transient: retried with the fault back-off.
 */
export type Verdict = "answer" | "gone" | "refused" | "reauthenticate" | "forbidden" | "throttled" | "transient";

export interface RetryRule {
  /** Absent: both services. */
  service?: Service;
  /** Inclusive status range; absent for transport errors (no HTTP answer at all). */
  from?: number;
  to?: number;
  /** The body must match too. */
  body?: RegExp;
  verdict: Verdict;
  why: string;
}

export const RETRY_TABLE: readonly RetryRule[] = [
  // Transport errors: core-rest-pipeline retries ETIMEDOUT, ECONNRESET, ECONNREFUSED, ENOTFOUND...
  // (isSystemError). A VM at boot retries them all: a TLS "certificate not yet valid" heals once
  // chrony steps the clock, like DNS and routes that come up late.
  { verdict: "transient", why: "no answer: the network, DNS or the clock may still be settling" },
  { from: 200, to: 200, verdict: "answer", why: "an answer" },
  // "Identity not found" until the platform attaches the identity: the MSAL IMDS retry spec, §2
  // (https://github.com/AzureAD/microsoft-authentication-library-for-dotnet/blob/main/docs/imds_retry_based_on_errors.md).
  {
    service: "imds",
    from: 400,
    to: 400,
    body: /identity not found/i,
    verdict: "transient",
    why: "no managed identity attached yet",
  },
  // "404 Not found: IMDS endpoint is updating. Retry with Exponential Backoff" and "410: IMDS
  // will be available within 70 seconds": https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#error-handling
  {
    service: "imds",
    from: 404,
    to: 404,
    verdict: "transient",
    why: "IMDS is updating, or the identity is not ready",
  },
  { service: "imds", from: 410, to: 410, verdict: "transient", why: "IMDS is updating; this can last up to 70 s" },
  // An expired or revoked bearer token (RFC 6750 §3.1 invalid_token): IMDS hands out a fresh one.
  { service: "arm", from: 401, to: 401, verdict: "reauthenticate", why: "token rejected or expired" },
  // "Role assignment changes can take up to 10 minutes to take effect":
  // https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-changes-are-not-being-detected
  {
    service: "arm",
    from: 403,
    to: 403,
    verdict: "forbidden",
    why: "RBAC not propagated yet: a new role assignment takes up to 10 min to apply",
  },
  // The VM's own GET answers 404 once the VM is deleted (an overprovisioned extra, a scale-in).
  { service: "arm", from: 404, to: 404, verdict: "gone", why: "it no longer exists" },
  // 408: exponentialRetryStrategy (isExponentialRetryResponse).
  { from: 408, to: 408, verdict: "transient", why: "request timeout" },
  // 429: throttlingRetryStrategy; ARM: https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling;
  // IMDS: 5 requests/s per VM, https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#rate-limiting
  { from: 429, to: 429, verdict: "throttled", why: "throttled" },
  // Any other 4xx says the request itself is wrong: "4xx errors are design-time errors. Don't
  // retry" (how-to-use-vm-token#error-handling, above); e.g. ARM 400 InvalidApiVersionParameter
  // in a cloud without the pinned api-version, 400 for a missing Metadata header, 405.
  { from: 400, to: 499, verdict: "refused", why: "the request itself is wrong, and waiting cannot heal that" },
  // 501 Not Implemented and 505 HTTP Version Not Supported answer the same every time: exponentialRetryStrategy.
  { from: 501, to: 501, verdict: "refused", why: "the server does not implement this request" },
  { from: 505, to: 505, verdict: "refused", why: "the server does not speak this HTTP version" },
  // "5xx Transient error from service ... It's safe to retry after waiting for at least 1 second"
  // (how-to-use-vm-token#error-handling); exponentialRetryStrategy retries them too.
  { from: 500, to: 599, verdict: "transient", why: "transient" },
  // 1xx, 3xx, a 2xx other than 200: nothing either service documents for a GET; retried like an
  // unreadable 200 (the agent follows no redirects).
  { from: 0, to: 999, verdict: "transient", why: "an answer neither service documents for this request" },
];

function matches(rule: RetryRule, service: Service, res: HttpResult): boolean {
  if (rule.service !== undefined && rule.service !== service) return false;
  if (res.kind === "error") return rule.from === undefined;
  if (rule.from === undefined || res.status < rule.from || res.status > rule.to!) return false;
  return !rule.body || rule.body.test(res.body);
}

/** The first row of RETRY_TABLE that matches (the last one matches every answer). */
export function classify(service: Service, res: HttpResult): RetryRule {
  for (const rule of RETRY_TABLE) if (matches(rule, service, res)) return rule;
  return RETRY_TABLE[RETRY_TABLE.length - 1];
}
