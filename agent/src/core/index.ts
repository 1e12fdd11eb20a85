/** The pure core: everything the process, the tests and the fleet simulation need. */
export { runWaiter } from "./waiter";
export { parseArgs, USAGE } from "./args";
export type { ParsedArgs } from "./args";
export { EXIT_CODES, exitCodeFor } from "./exitCodes";
export { armDelayMs, imdsDelayMs, minRateLimitRemaining, VM_FAST_READS, VM_STEADY_MS } from "./pollPolicy";
export type { ArmPollInput, ArmReason, ArmTarget, ImdsRetryInput } from "./pollPolicy";
export { parseVmId } from "./resourceId";
export type { VmId } from "./resourceId";
export { retryAfterMs } from "./retryAfter";
export * from "./constants";
export type { Env, HttpRequest, HttpResult, Outcome, WaiterOptions } from "./types";
