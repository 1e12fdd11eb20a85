/** Entry point of agent/dist/waiter.js: flags in, exit code out (see core/exitCodes.ts). */
import { EXIT_CODES, exitCodeFor, parseArgs, runWaiter, USAGE } from "./core/index";
import { processEnv } from "./io/env";

function main(): void {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed.kind === "help") {
    process.stdout.write(USAGE);
    process.exit(EXIT_CODES.succeeded);
  }
  if (parsed.kind === "error") {
    process.stderr.write(`waiter: ${parsed.message}\n${USAGE}`);
    process.exit(EXIT_CODES.usage);
  }
  runWaiter(processEnv(), parsed.options).then(
    (outcome) => process.exit(exitCodeFor(outcome)),
    (err: Error) => {
      process.stderr.write(`waiter: internal error: ${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
}

main();
