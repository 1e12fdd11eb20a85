/**
 * Watches the guest's serial console (a file qemu appends to). Lines are matched after stripping
 * ANSI colours; each match carries the host time it was first seen, which the scenarios compare
 * with the fake's timeline.
 */
import * as fs from "fs";

/** How often the log is re-read: the granularity of every timing the scenarios assert. */
const POLL_MS = 100;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export interface SerialLine {
  /** Host time (ms since epoch) the line was first seen complete. */
  at: number;
  /** Byte offset of the line in the log. */
  offset: number;
  text: string;
}

export class SerialLog {
  private lines: SerialLine[] = [];
  private readBytes = 0;
  private partial = "";
  private timer?: NodeJS.Timeout;

  constructor(readonly file: string) {}

  /** Starts following the file from its current end (a new boot appends to the old log). */
  start(): void {
    this.readBytes = fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
    this.lines = [];
    this.partial = "";
    this.stop();
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads what qemu appended since the last poll. */
  poll(): void {
    if (!fs.existsSync(this.file)) return;
    const size = fs.statSync(this.file).size;
    if (size <= this.readBytes) return;
    const fd = fs.openSync(this.file, "r");
    const buf = Buffer.alloc(size - this.readBytes);
    fs.readSync(fd, buf, 0, buf.length, this.readBytes);
    fs.closeSync(fd);
    const now = Date.now();
    let offset = this.readBytes - Buffer.byteLength(this.partial);
    this.readBytes = size;
    const text = this.partial + buf.toString("utf8");
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? "";
    for (const raw of parts) {
      this.lines.push({ at: now, offset, text: raw.replace(ANSI, "").replace(/\r/g, "") });
      offset += Buffer.byteLength(raw) + 1;
    }
  }

  /** Every complete line of this boot so far. */
  all(): SerialLine[] {
    this.poll();
    return this.lines.slice();
  }

  find(pattern: RegExp, since = 0): SerialLine | undefined {
    return this.all().find((l) => l.at >= since && pattern.test(l.text));
  }

  filter(pattern: RegExp, since = 0): SerialLine[] {
    return this.all().filter((l) => l.at >= since && pattern.test(l.text));
  }

  /**
   * Resolves with the first line of this boot matching `pattern`; rejects after `timeoutMs`, or at
   * once if a line matches `failOn` first or `aborted()` says the guest is gone.
   */
  async waitFor(
    pattern: RegExp,
    what: string,
    timeoutMs: number,
    opts: { failOn?: RegExp; aborted?: () => string | undefined } = {},
  ): Promise<SerialLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = this.all();
      const bad = opts.failOn ? lines.find((l) => opts.failOn!.test(l.text)) : undefined;
      const hit = lines.find((l) => pattern.test(l.text));
      if (bad && (!hit || bad.offset <= hit.offset)) {
        throw new Error(`${what}: the console printed "${bad.text.trim()}" first (log: ${this.file})`);
      }
      if (hit) return hit;
      const abort = opts.aborted?.();
      if (abort) throw new Error(`${what}: ${abort} (log: ${this.file})`);
      if (Date.now() > deadline) {
        throw new Error(`${what}: no console line matched ${pattern} within ${timeoutMs / 1000} s (log: ${this.file})`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
