/** The real Env: a monotonic clock, timers, Math.random, the http transport, files, stderr. */
import * as fs from "fs";
import type { Env } from "../core/types";
import { request } from "./http";

/** A file's text, or undefined when it is absent, unreadable or a directory (never throws). */
export function readTextFile(path: string): Promise<string | undefined> {
  return new Promise((resolve) => fs.readFile(path, "utf8", (err, text) => resolve(err ? undefined : text)));
}

/** setTimeout treats anything above 2^31 - 1 ms as 1 ms; longer waits are done in chunks by the core's loop. */
const MAX_TIMER_MS = 2147483647;

/** `name` prefixes every log line: the journal shows which subcommand spoke. */
export function processEnv(name = "waiter"): Env {
  return {
    // hrtime, not Date.now(): chrony may step the wall clock during early boot.
    now() {
      const [s, ns] = process.hrtime();
      return s * 1000 + ns / 1e6;
    },
    sleep(ms: number) {
      return new Promise<void>((resolve) => setTimeout(resolve, Math.min(Math.max(0, Math.ceil(ms)), MAX_TIMER_MS)));
    },
    random: Math.random,
    request,
    // Absent, unreadable or a directory: all "no proof" to the core.
    readFile: readTextFile,
    log(line: string) {
      process.stderr.write(`${name}: ${line}\n`);
    },
    wallNow: Date.now,
  };
}
