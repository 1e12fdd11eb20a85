/** One health state file (core/healthState.ts), replaced whole: a temporary file, then rename(2). */
import * as fs from "fs";

/**
 * A writer for `dir/name`: a record replaces the file, undefined removes it. Failures are logged,
 * never thrown (a missing directory only means the worker never started this boot, and then the
 * endpoint answers Initializing anyway).
 */
export function stateFileWriter(dir: string, name: string, log: (line: string) => void) {
  const target = `${dir}/${name}`;
  return (record: string | undefined) =>
    new Promise<void>((resolve) => {
      const done = (err: NodeJS.ErrnoException | null) => {
        if (err && !(record === undefined && err.code === "ENOENT")) log(`health state ${target}: ${err.message}`);
        resolve();
      };
      if (record === undefined) return fs.unlink(target, done);
      // In the same directory, so the rename is atomic; the health server reads only `name`.
      const temp = `${dir}/.${name}.${process.pid}`;
      fs.writeFile(temp, record, { mode: 0o644 }, (err) => (err ? done(err) : fs.rename(temp, target, done)));
    });
}
