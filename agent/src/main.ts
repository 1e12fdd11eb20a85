/**
 * Entry point of agent/dist/waiter.js: flags in, exit code out (see core/exitCodes.ts).
 * `waiter.js [flags]` waits; `waiter.js drain-watcher [flags]` watches Scheduled Events.
 */
import { parseArgs, runWaiter, USAGE } from "./core/index";
import { DRAIN_COMMAND } from "./core/drainArgs";
import { runCli } from "./io/cli";
import { drainMain } from "./io/drainCli";

const argv = process.argv.slice(2);
if (argv[0] === DRAIN_COMMAND) drainMain(argv.slice(1));
else runCli("waiter", parseArgs(argv), USAGE, runWaiter);
