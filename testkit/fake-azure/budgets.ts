/**
 * The ARM read budgets the fake counts: a per-resource Compute bucket and the principal's ARM
 * read bucket, each refilled continuously; an empty one is a violation, answered 429 only when
 * enforced.
 */
import { ARM_READS_PER_PRINCIPAL, COMPUTE_GET_VMSS_VM_PER_VM } from "../azureLimits";

/** The buckets this fake counts, from the one source of limits (../azureLimits.ts). */
export const COMPUTE_BUCKET = COMPUTE_GET_VMSS_VM_PER_VM;
export const PRINCIPAL_BUCKET = ARM_READS_PER_PRINCIPAL;

interface Bucket {
  tokens: number;
  at: number;
}

/** What one read left: whole tokens per bucket, and how long to wait when it was refused. */
export interface Spent {
  resource: number;
  principal: number;
  /** Set only when a bucket was empty and budgets are enforced: ms until a token is back. */
  throttledFor?: number;
}

export class ReadBudgets {
  /** ARM reads that found a bucket empty (answered 429 only when enforced). */
  violations = 0;
  private readonly buckets = new Map<string, Bucket>();

  constructor(public enforce: boolean) {}

  /** Takes one token from the resource's Compute bucket and the principal's read bucket. */
  spend(resourceId: string, now: number): Spent {
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
      this.violations++;
      const wait = Math.max(
        resource.tokens < 1 ? ((1 - resource.tokens) / COMPUTE_BUCKET.refillPerSecond) * 1000 : 0,
        principal.tokens < 1 ? ((1 - principal.tokens) / PRINCIPAL_BUCKET.refillPerSecond) * 1000 : 0,
      );
      if (this.enforce) return { resource: 0, principal: Math.floor(principal.tokens), throttledFor: wait };
    }
    resource.tokens -= 1;
    principal.tokens -= 1;
    return { resource: Math.max(0, Math.floor(resource.tokens)), principal: Math.max(0, Math.floor(principal.tokens)) };
  }
}
