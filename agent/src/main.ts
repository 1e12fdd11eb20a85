/**
 * Entry point of agent/dist/waiter.js: flags in, exit code out (see core/exitCodes.ts).
 * `waiter.js [flags]` waits; `waiter.js health-server [flags]` serves the health endpoint;
 * `waiter.js drain-watcher [flags]` watches Scheduled Events.
 */
import { parseArgs, runWaiter, USAGE } from "./core/index";
import { DRAIN_COMMAND } from "./core/drainArgs";
import { HEALTH_EXIT_CODES, HEALTH_SERVER_COMMAND, HEALTH_USAGE, parseHealthArgs } from "./core/healthServer";
import { runCli } from "./io/cli";
import { drainMain } from "./io/drainCli";
import { serveHealth } from "./io/healthServer";

/** The health server runs for good (no outcome to map), so it has its own small shell. */
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
if (argv[0] === DRAIN_COMMAND) drainMain(argv.slice(1));
else if (argv[0] === HEALTH_SERVER_COMMAND) healthServer(argv.slice(1));
else runCli("waiter", parseArgs(argv), USAGE, runWaiter);
