/**
 * Entry point of agent/dist/waiter.js. `node waiter.js [flags]` waits (flags in, exit code out,
 * see core/exitCodes.ts); `node waiter.js health-server [flags]` serves the health endpoint.
 */
import { EXIT_CODES, exitCodeFor, parseArgs, runWaiter, USAGE } from "./core/index";
import { HEALTH_EXIT_CODES, HEALTH_SERVER_COMMAND, HEALTH_USAGE, parseHealthArgs } from "./core/healthServer";
import { processEnv } from "./io/env";
import { serveHealth } from "./io/healthServer";

function wait(argv: string[]): void {
  const parsed = parseArgs(argv);
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

function healthServer(argv: string[]): void {
  const parsed = parseHealthArgs(argv);
  if (parsed.kind === "help") {
    process.stdout.write(HEALTH_USAGE);
    process.exit(0);
  }
  if (parsed.kind === "error") {
    process.stderr.write(`health-server: ${parsed.message}\n${HEALTH_USAGE}`);
    process.exit(HEALTH_EXIT_CODES.usage);
  }
  serveHealth(parsed.options, (line) => process.stderr.write(`health-server: ${line}\n`));
}

const argv = process.argv.slice(2);
if (argv[0] === HEALTH_SERVER_COMMAND) healthServer(argv.slice(1));
else wait(argv);
