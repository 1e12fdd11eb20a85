import type { Outcome } from "./types";

/**
 * The waiter's exit codes, the one place they are defined. The launcher runs
 * `waiter && exec worker`, so only 0 starts the worker. 1 is left to Node itself
 * (an uncaught error: a bug in the agent).
 */
export const EXIT_CODES = {
  /** provisioningState Succeeded was read (and, with --kept-file, the kept file holds this VM's vmId). */
  succeeded: 0,
  /** Bad flags or values, or no way to know the ARM endpoint (unknown azEnvironment without --arm-url). */
  usage: 2,
  /** The VM is Deleting, or ARM answers 404 for it: an overprovisioned extra being culled, or a scale-in. */
  gone: 3,
  /** The VM's provisioningState is Failed. */
  failed: 4,
  /** --timeout elapsed before any of the above. */
  timeout: 5,
  /**
   * IMDS or ARM refused the request in a way waiting cannot heal (a 4xx such as 400
   * InvalidApiVersionParameter or 405, or 501/505; see retryTable.ts): the log line names it.
   */
  refused: 6,
} as const;

export function exitCodeFor(outcome: Outcome): number {
  return EXIT_CODES[outcome.kind];
}
