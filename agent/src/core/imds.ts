/**
 * The IMDS client: GET a path until its 200 body parses, retrying what retryTable.ts says is
 * retried with the IMDS back-off, and ending the wait on what it says is final.
 * https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service
 */
import { IMDS_INSTANCE_API_VERSION, IMDS_REQUEST_TIMEOUT_MS } from "./constants";
import { finish, log, secs, send, sendAt, sleepUntil, snippet, describe, timeout, at } from "./context";
import type { Ctx, Step } from "./context";
import { imdsDelayMs } from "./pollPolicy";
import { classify } from "./retryTable";

/**
 * GETs an IMDS path until parse() accepts a 200 body (and its headers). `fallback` (the token
 * still valid) ends the loop after the first retryable failure, with what it returns.
 * `timeoutMs`: the per-request deadline, IMDS_REQUEST_TIMEOUT_MS unless the endpoint is known
 * to answer slower (the first Scheduled Events call).
 */
export async function imdsGet<T>(
  ctx: Ctx,
  label: string,
  path: string,
  parse: (body: string, headers: Record<string, string>) => T | undefined,
  fallback?: () => T | undefined,
  timeoutMs = IMDS_REQUEST_TIMEOUT_MS,
): Promise<Step<T>> {
  let attempt = 0;
  for (;;) {
    if (!(await sleepUntil(ctx, sendAt(ctx, "imds", ctx.imdsRetryAt)))) return timeout(ctx);
    const sent = await send(ctx, "imds", ctx.imdsUrl + path, { Metadata: "true" }, timeoutMs);
    if (!sent) return timeout(ctx);
    const res = sent.res;
    const rule = classify("imds", res);
    let problem = `${describe("imds", res)} for ${label} (${rule.why})`;
    if (rule.verdict === "answer" && res.kind === "response") {
      const value = parse(res.body, res.headers);
      if (value !== undefined) {
        if (attempt > 0) log(ctx, `IMDS ${label}: answered after ${attempt} failed attempt(s)`);
        return { value };
      }
      problem = `IMDS ${label}: 200 with an unusable body (${snippet(res.body)})`;
    } else if (rule.verdict === "refused") {
      const reason = `${describe("imds", res, true)} for ${label}`;
      return finish(ctx, { kind: "refused", reason }, `${reason} at ${at(ctx)}: refused, because ${rule.why}`);
    }
    attempt++;
    const delay = imdsDelayMs({ attempt, random: ctx.env.random() });
    ctx.imdsRetryAt = ctx.env.now() + delay;
    const wait = secs(sendAt(ctx, "imds", ctx.imdsRetryAt) - ctx.env.now());
    ctx.last = `last: ${problem}`;
    const kept = fallback ? fallback() : undefined;
    if (kept !== undefined) {
      log(ctx, `${problem}; the current token is still valid, so polling goes on; next try in ${wait}`);
      return { value: kept };
    }
    log(ctx, `${problem}; retrying in ${wait}`);
  }
}

/** `compute/<leaf>` as plain text, at the api-version that serves resourceId, azEnvironment and vmId. */
export function instancePath(leaf: string): string {
  return `/metadata/instance/compute/${leaf}?api-version=${IMDS_INSTANCE_API_VERSION}&format=text`;
}

export function parseAzEnvironment(body: string): string | undefined {
  const v = body.trim();
  return /^[A-Za-z][A-Za-z0-9]*$/.test(v) ? v : undefined;
}

/** IMDS compute/vmId: the VM's unique id, a GUID (the IMDS spec's example: "02aab8a4-74ef-476e-8182-f6d2ba4166a6"). */
export function parseVmUuid(body: string): string | undefined {
  const v = body.trim();
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v) ? v : undefined;
}
