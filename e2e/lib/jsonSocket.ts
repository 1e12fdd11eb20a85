/** Line-delimited JSON over a unix socket: the wire format of both QMP and the qemu guest agent. */
import * as net from "net";

export class JsonSocket {
  private buffer = "";
  private messages: any[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      // The guest agent prefixes a sync response with 0xFF so stale bytes can be skipped.
      this.buffer += chunk.replace(/\xff/g, "");
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        try {
          this.messages.push(JSON.parse(Buffer.from(line, "latin1").toString("utf8")));
        } catch {
          // A half line left over from before a resync.
        }
      }
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  static connect(path: string, timeoutMs: number): Promise<JsonSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer on ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new JsonSocket(socket));
      });
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  send(obj: unknown, prefix = ""): void {
    this.socket.write(prefix + JSON.stringify(obj) + "\n", "latin1");
  }

  /** Removes and returns the first message matching `accept`, waiting up to `timeoutMs`. */
  async next(accept: (m: any) => boolean, timeoutMs: number): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex(accept);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      if (this.closed) throw new Error("the socket closed");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Drops buffered messages (stale answers of a guest agent that was not listening yet). */
  drain(): void {
    this.messages = [];
  }

  close(): void {
    this.socket.destroy();
  }
}
