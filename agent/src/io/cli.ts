/** One subcommand's shell: its parsed flags in, the exit code out (see core/exitCodes.ts). */
import { EXIT_CODES, exitCodeFor } from "../core/exitCodes";
import type { Parsed } from "../core/drainArgs";
import type { Env, Outcome } from "../core/types";
import { processEnv } from "./env";

/** `name` prefixes its log lines; --help prints `usage` and exits 0, a bad flag prints it and exits 2. */
export function runCli<O>(
  name: string,
  parsed: Parsed<O>,
  usage: string,
  run: (env: Env, options: O) => Promise<Outcome>,
) {
  if (parsed.kind === "help") {
    process.stdout.write(usage);
    process.exit(EXIT_CODES.succeeded);
  }
  if (parsed.kind === "error") {
    process.stderr.write(`${name}: ${parsed.message}\n${usage}`);
    process.exit(EXIT_CODES.usage);
  }
  run(processEnv(name), parsed.options).then(
    (outcome) => process.exit(exitCodeFor(outcome)),
    (err: Error) => {
      process.stderr.write(`${name}: internal error: ${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
}
