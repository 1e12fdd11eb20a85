/**
 * The managed-identity token: fetched from IMDS, cached, refreshed shortly before it expires.
 * https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token
 */
import { IMDS_TOKEN_API_VERSION, TOKEN_FALLBACK_LIFETIME_MS, TOKEN_REFRESH_MARGIN_MS } from "./constants";
import { log, secs, sendAt, wallNow } from "./context";
import type { Ctx, Step, Token } from "./context";
import { imdsGet } from "./imds";

/** The token response's numbers are strings ("expires_in": "3599"). */
export function parseToken(body: string, now: number, wall: number): Token | undefined {
  let j: { access_token?: unknown; expires_in?: unknown; expires_on?: unknown } | null;
  try {
    j = JSON.parse(body);
  } catch (e) {
    return undefined;
  }
  if (!j || typeof j.access_token !== "string" || !j.access_token) return undefined;
  let lifetime = Number(j.expires_in) * 1000;
  if (!(lifetime > 0)) {
    const untilExpiry = Number(j.expires_on) * 1000 - wall;
    lifetime = untilExpiry > 0 ? untilExpiry : TOKEN_FALLBACK_LIFETIME_MS;
  }
  const margin = Math.min(TOKEN_REFRESH_MARGIN_MS, lifetime / 2);
  return { value: j.access_token, expiresAt: now + lifetime, refreshAt: now + lifetime - margin };
}

/** The cached token, refreshed shortly before it expires. */
export async function getToken(ctx: Ctx, resource: string): Promise<Step<string>> {
  const { env } = ctx;
  const held = ctx.token;
  if (held && env.now() < held.refreshAt) return { value: held.value };
  const stillValid = () => (held && env.now() < held.expiresAt ? held : undefined);
  // A refresh that failed a moment ago must not hold up ARM reads while the old token works.
  if (held && stillValid() && env.now() < sendAt(ctx, "imds", ctx.imdsRetryAt)) return { value: held.value };
  const got = await imdsGet(
    ctx,
    "identity token",
    `/metadata/identity/oauth2/token?api-version=${IMDS_TOKEN_API_VERSION}&resource=${resource}`,
    (body) => parseToken(body, env.now(), wallNow(env)),
    stillValid,
  );
  if ("end" in got) return got;
  const token = got.value;
  if (token !== held) {
    ctx.token = token;
    ctx.secrets.push(token.value);
    log(ctx, `got a managed identity token for ${resource}; will refresh it in ${secs(token.refreshAt - env.now())}`);
  }
  return { value: token.value };
}
