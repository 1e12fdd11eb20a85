/**
 * The worker command every scenario ships: adversarial on purpose (quotes, `$`, `%`, backslashes,
 * a tab, a newline, unicode, YAML and systemd specials), and self-reporting. When it runs it prints
 * one console line with
 *   - the exact bytes of the command its shell received (`/proc/$$/cmdline` of the `sh -c`), and
 *   - the argv its `set --` produced,
 * both hex-encoded so nothing between the guest and the host can alter them.
 */
import { execFileSync } from "child_process";
import * as assert from "assert";

/** Assembled at run time, so this marker never appears in the command text itself (or in any log of it). */
export const WORKER_STARTED = /E2E-WORKER-STARTED cmdline=([0-9a-f]*) argv=([0-9a-f]*)/;

/** The arguments the worker's `set --` must produce, as JS strings. */
export const EXPECTED_ARGV = [
  `it's "quoted"`,
  "$HOME ${PATH} `id` $(id) $$",
  "%h %i %% %n %{x} %",
  "back\\slash \\\\ \\n \\",
  "tab\there unicode é ✓ 🚀",
  "#: - ! & * | > < ? { } [ ] , @ ` ~",
  "line one\nline two",
  "",
];

/** The same arguments written as /bin/sh words, mixing single quotes, double quotes and escapes. */
const ARGS_AS_SHELL = [
  `'it'\\''s "quoted"'`,
  `"\\$HOME \\\${PATH} \\\`id\\\` \\$(id) \\$\\$"`,
  `'%h %i %% %n %{x} %'`,
  `'back\\slash \\\\ \\n \\'`,
  `"tab\there unicode é ✓ 🚀"`,
  `'#: - ! & * | > < ? { } [ ] , @ \` ~'`,
  `'line one\nline two'`,
  `""`,
].join(" ");

const SET_ARGS = `set -- ${ARGS_AS_SHELL}`;
const hex = (file = "") => `od -An -v -tx1 ${file}| tr -d ' \\n'`;

/** Foreground worker: reports, then stays up like a real worker until the VM goes away. */
export const WORKER_COMMAND =
  `${SET_ARGS}; ` +
  `printf '%s-%s cmdline=%s argv=%s\\n' E2E-WORKER STARTED "$(${hex("/proc/$$/cmdline ")})" "$(printf '%s\\0' "$@" | ${hex()})"; ` +
  `exec sleep 2147483647`;

function hexToBuffer(hex: string): Buffer {
  return Buffer.from(hex, "hex");
}

/** The NUL-terminated argv bytes for `args`. */
function argvBytes(args: string[]): Buffer {
  return Buffer.concat(args.map((a) => Buffer.concat([Buffer.from(a, "utf8"), Buffer.from([0])])));
}

/** Sanity check of the test itself, on the host's /bin/sh: the shell words mean EXPECTED_ARGV. */
export function hostArgvBytes(): Buffer {
  return execFileSync("/bin/sh", ["-c", `${SET_ARGS}; printf '%s\\0' "$@"`]);
}

/**
 * Asserts that the worker's shell got WORKER_COMMAND byte for byte (the last argument of its
 * `sh -c`), and that the arguments came out as EXPECTED_ARGV.
 */
export function assertWorkerReport(line: string): void {
  const m = WORKER_STARTED.exec(line);
  assert.ok(m, `not a worker report: ${line}`);
  const cmdline = hexToBuffer(m[1]);
  const parts = cmdline.toString("utf8").split("\0");
  // /proc/PID/cmdline is NUL-terminated: [..., "-c", COMMAND, ""]
  assert.strictEqual(parts[parts.length - 1], "", "cmdline ends with NUL");
  const received = parts[parts.length - 2];
  assert.strictEqual(
    parts[parts.length - 3],
    "-c",
    `the worker was not run as sh -c COMMAND: ${JSON.stringify(parts)}`,
  );
  assert.strictEqual(received, WORKER_COMMAND, "the command the worker's shell received differs from workerCommand");
  assert.deepStrictEqual(hexToBuffer(m[2]), argvBytes(EXPECTED_ARGV), "the worker's argv differs");
}
