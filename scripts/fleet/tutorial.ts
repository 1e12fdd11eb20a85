/**
 * The tutorial's reference script (the "seed"), replayed call for call on the same Env as the
 * agent so both meet the same fleet and the same buckets:
 *
 *   az login --identity                       # token + GET /subscriptions (a tenant read)
 *   until [ "$(az vmss show ... --query provisioningState -o tsv)" = Succeeded ]; do sleep 10; done
 *   sleep 10                                  # the trailing sleep
 *   exec worker
 *
 * Every `az` pays the CLI's start-up, fetches a token from IMDS and sends one ARM GET. The
 * CLI (azure-core's RetryPolicy) waits out Retry-After itself, up to its retry total; when it
 * gives up, or the VM answers 404, the script only sees "not Succeeded" and loops on: it has
 * no notion of a deleted VM and stops only when the VM is powered off.
 */
import type { Env, HttpResult, Outcome, WaiterOptions } from "../../agent/src/core/types";
import {
  AZ_CLI_RETRY_TOTAL,
  AZ_CLI_STARTUP_MS,
  COMPUTE_API_VERSION,
  TUTORIAL_POLL_S,
  TUTORIAL_TRAILING_SLEEP_S,
} from "./constants";
import { ARM_URL } from "./region";

const TOKEN_PATH =
  "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F";
const PER_REQUEST_TIMEOUT_MS = 30_000;

export async function runTutorial(env: Env, opts: WaiterOptions): Promise<Outcome> {
  const get = (url: string, headers: Record<string, string>) =>
    env.request({ method: "GET", url, headers, timeoutMs: PER_REQUEST_TIMEOUT_MS });
  const rid = await get(`${opts.imdsUrl}/metadata/instance/compute/resourceId?api-version=2021-02-01&format=text`, {
    Metadata: "true",
  });
  const resourceId = rid.kind === "response" && rid.status === 200 ? rid.body : "";

  /** One `az` invocation: start-up, token, then the ARM GET with the CLI's own 429 retries. */
  const az = async (path: string): Promise<HttpResult> => {
    await env.sleep(AZ_CLI_STARTUP_MS);
    const tok = await get(`${opts.imdsUrl}${TOKEN_PATH}`, { Metadata: "true" });
    const token =
      tok.kind === "response" && tok.status === 200
        ? (JSON.parse(tok.body) as { access_token: string }).access_token
        : "";
    let res: HttpResult = { kind: "error", code: "EUNSET", message: "" };
    for (let attempt = 0; attempt <= AZ_CLI_RETRY_TOTAL; attempt++) {
      res = await get(`${ARM_URL}${path}`, { Authorization: `Bearer ${token}` });
      if (res.kind !== "response" || res.status !== 429) return res;
      await env.sleep(Number(res.headers["retry-after"] ?? "1") * 1000);
    }
    return res;
  };

  await az("/subscriptions?api-version=2022-12-01");
  for (;;) {
    const res = await az(`${resourceId}?api-version=${COMPUTE_API_VERSION}`);
    const state =
      res.kind === "response" && res.status === 200
        ? (JSON.parse(res.body) as { properties?: { provisioningState?: string } }).properties?.provisioningState
        : undefined;
    if (state === "Succeeded") break;
    await env.sleep(TUTORIAL_POLL_S * 1000);
  }
  await env.sleep(TUTORIAL_TRAILING_SLEEP_S * 1000);
  return { kind: "succeeded" };
}
