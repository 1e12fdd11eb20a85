/** The pure core: everything the process, the tests and the fleet simulation need. */
export { runWaiter } from "./waiter";
export { parseArgs, USAGE } from "./args";
export type { ParsedArgs } from "./args";
export { EXIT_CODES, exitCodeFor } from "./exitCodes";
export { KEPT_FILE_POLL_MS } from "./keptFile";
export {
  armDelayMs,
  imdsDelayMs,
  minRateLimitRemaining,
  PROOF_WAIT_MS,
  VM_FAST_READS,
  VM_STEADY_MS,
} from "./pollPolicy";
export type { ArmPollInput, ArmReason, ImdsRetryInput } from "./pollPolicy";
export { parseVmId } from "./resourceId";
export type { VmId } from "./resourceId";
export { classify, RETRY_TABLE } from "./retryTable";
export type { RetryRule, Service, Verdict } from "./retryTable";
export { retryAfterMs } from "./retryAfter";
export * from "./constants";
export type { Env, HttpRequest, HttpResult, Outcome, WaiterOptions } from "./types";
