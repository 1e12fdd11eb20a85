/**
 * An `armPoll` input for the poll policy's specs: a first state read of an idle fleet at random
 * 0.5 (the middle of every jitter), with the fields a test changes given in `over`.
 */
import type { ArmPollInput } from "../agent/src/core/pollPolicy";

export function pollInput(over: Partial<ArmPollInput>): ArmPollInput {
  return {
    reason: "state",
    attempt: 1,
    awaitingProof: false,
    elapsedMs: 0,
    headers: {},
    retryAfter: false,
    random: 0.5,
    ...over,
  };
}
