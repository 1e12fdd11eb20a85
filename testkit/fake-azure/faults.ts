/**
 * The faults a test queues on a route (`faults.*`: the documented bodies of the errors the agent
 * must survive), and json(), the answer helper every part of the fake builds its replies with.
 */
import type { FakeAnswer, FakeFault } from "./types";
import { DEFAULT_RESOURCE_ID } from "./types";
import { armError, imdsError, jsonAnswer } from "./wire";

/** A JSON answer (content-type application/json; charset=utf-8, then `headers`). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeAnswer {
  return { kind: "respond", ...jsonAnswer(status, body, headers) };
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
