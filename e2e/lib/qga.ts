/**
 * The qemu guest agent, used to play the Azure VM agent: it runs a command in the guest as root,
 * through `/bin/sh -c` as the Custom Script Extension does, and returns its exit code and output.
 */
import { JsonSocket } from "./jsonSocket";

/** qemu-ga starts with the virtio port, a few seconds into boot; retry the sync until then. */
const SYNC_ATTEMPT_MS = 2000;
const STATUS_POLL_MS = 200;

export interface ExecResult {
  exitcode: number;
  stdout: string;
  stderr: string;
  /** Host-measured wall time from the exec request to the guest reporting the exit. */
  ms: number;
}

export class GuestAgent {
  private constructor(private readonly sock: JsonSocket) {}

  /** Connects and synchronises with the agent in the guest, waiting up to `timeoutMs` for it to start. */
  static async connect(path: string, timeoutMs: number): Promise<GuestAgent> {
    const sock = await JsonSocket.connect(path, timeoutMs);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const id = Math.floor(Math.random() * 2 ** 31);
      sock.drain();
      sock.send({ execute: "guest-sync-delimited", arguments: { id } }, "\xff");
      try {
        await sock.next((m) => m.return === id, SYNC_ATTEMPT_MS);
        // Earlier attempts may still be answered (or rejected, for their 0xFF); replies come in
        // order, so everything before this plain sync's reply is stale.
        const fence = id + 1;
        sock.send({ execute: "guest-sync", arguments: { id: fence } });
        await sock.next((m) => m.return === fence, SYNC_ATTEMPT_MS);
        sock.drain();
        return new GuestAgent(sock);
      } catch (e) {
        if (Date.now() > deadline) {
          sock.close();
          throw new Error(
            `the qemu guest agent did not answer within ${timeoutMs / 1000} s: is qemu-guest-agent in the image? (${e})`,
          );
        }
      }
    }
  }

  private async call(command: string, args: Record<string, unknown>, timeoutMs: number): Promise<any> {
    this.sock.send({ execute: command, arguments: args });
    const reply = await this.sock.next((m) => "return" in m || "error" in m, timeoutMs);
    if (reply.error) throw new Error(`guest agent ${command}: ${reply.error.class}: ${reply.error.desc}`);
    return reply.return;
  }

  /** Runs `/bin/sh -c command` as root in the guest and waits for it to exit. */
  async sh(command: string, timeoutMs: number): Promise<ExecResult> {
    const started = Date.now();
    const { pid } = await this.call(
      "guest-exec",
      { path: "/bin/sh", arg: ["-c", command], "capture-output": true },
      timeoutMs,
    );
    for (;;) {
      const st = await this.call("guest-exec-status", { pid }, timeoutMs);
      if (st.exited) {
        const decode = (b?: string) => (b ? Buffer.from(b, "base64").toString("utf8") : "");
        return {
          exitcode: st.exitcode ?? (st.signal !== undefined ? 128 + st.signal : -1),
          stdout: decode(st["out-data"]),
          stderr: decode(st["err-data"]),
          ms: Date.now() - started,
        };
      }
      if (Date.now() - started > timeoutMs) {
        throw new Error(`the guest command did not exit within ${timeoutMs / 1000} s: ${command}`);
      }
      await new Promise((r) => setTimeout(r, STATUS_POLL_MS));
    }
  }

  close(): void {
    this.sock.close();
  }
}
