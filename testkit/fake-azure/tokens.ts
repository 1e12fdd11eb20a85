/**
 * The managed-identity token endpoint (/metadata/identity/oauth2/token): issues access tokens with
 * their expiry, which ARM checks (./arm.ts), and revokes them all at once.
 */
import { faults, json } from "./faults";
import type { FakeAnswer } from "./types";
import { tokenBody } from "./wire";

/** expires_in of issued tokens when FakeAzureOptions.tokenLifetimeSeconds is not given (as in the Entra doc sample). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3599;

export class TokenIssuer {
  /** Access tokens issued, in order. */
  readonly tokens: string[] = [];
  /** Valid tokens and their expiry (epoch ms). */
  private readonly issued = new Map<string, number>();
  private serial = 0;

  constructor(private readonly lifetimeSeconds: number) {}

  /** The endpoint's answer: 400 Identity not found while no identity is attached, else a new token. */
  answer(query: Record<string, string>, now: number, identityAttached: boolean): FakeAnswer {
    if (!identityAttached) {
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

  /** When `token` expires (epoch ms), or undefined when this issuer never issued it or revoked it. */
  expiryOf(token: string): number | undefined {
    return this.issued.get(token);
  }

  /** Invalidates every token issued so far. */
  revokeAll(): void {
    this.issued.clear();
  }
}
