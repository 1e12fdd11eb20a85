/**
 * The error WorkerScaleSet throws for bad arguments, worded for every language the package serves.
 *
 * Its `message` is one header line, and each reason travels in `errors` with its property path.
 * Used from Python, Go or .NET, the component runs in its provider, which sends both over gRPC
 * (INVALID_ARGUMENT plus a pulumirpc.InputPropertiesError detail), and the engine prints the
 * message followed by one line per error: "- property capacity with value '5000' has a problem:
 * <reason>" (pulumi/pulumi v3.248.0 pkg/resource/deploy/source_eval.go, errorToMessage). A
 * message that listed the reasons too would print each of them twice.
 *
 * In a TypeScript program the Node.js runtime prints an uncaught error with util.inspect
 * (@pulumi/pulumi cmd/run/error.js, defaultErrorMessage), which would show the header, a stack
 * trace and the raw `errors` array; `[util.inspect.custom]` prints the same list instead, once,
 * and without a stack trace for what is a user's mistake.
 */
import * as util from "util";
import * as pulumi from "@pulumi/pulumi";
import type { InputPropertyErrorDetails } from "@pulumi/pulumi";

export class WorkerScaleSetArgumentsError extends pulumi.InputPropertiesError {
  constructor(resourceName: string, errors: InputPropertyErrorDetails[]) {
    const count = errors.length === 1 ? "1 invalid argument" : `${errors.length} invalid arguments`;
    super({ message: `WorkerScaleSet "${resourceName}" has ${count}:`, errors });
  }

  /** The header and one line per reason: what a TypeScript user sees when the program fails. */
  [util.inspect.custom](): string {
    return [this.message, ...this.errors.map((e) => `  - ${e.reason}`)].join("\n");
  }
}
