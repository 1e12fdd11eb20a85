/**
 * The HTTP side of FakeAzure: maps socket-free answers to sockets (a hang never answers, a reset
 * or refuse destroys the connection, delayMs delays the reply) and closes every open socket on
 * close(). The control paths (/_fake/...) go to `control`, every other request to `handle`.
 */
import * as http from "http";
import * as net from "net";
import { json } from "./faults";
import type { FakeAnswer } from "./types";

/** The socket-free side this server serves. */
export interface FakeHandlers {
  /** An answer for a control path, or undefined when it knows none. */
  control(method: string, pathname: string, body: string): FakeAnswer | undefined;
  handle(req: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }): FakeAnswer;
}

export class FakeServer {
  private server?: http.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly handlers: FakeHandlers) {}

  /** Starts serving; resolves the base URL (IMDS and ARM both live at it). */
  listen(port: number, host: string): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const pathname = (req.url || "/").split("?")[0];
        let answer: FakeAnswer | undefined;
        if (pathname.indexOf("/_fake/") === 0) {
          answer =
            this.handlers.control(req.method || "GET", pathname, Buffer.concat(chunks).toString("utf8")) ||
            json(404, { error: "unknown control path" });
        } else {
          try {
            answer = this.handlers.handle({
              method: req.method || "GET",
              url: req.url || "/",
              headers: req.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            });
          } catch (e) {
            answer = json(500, { error: `fake-azure bug: ${(e as Error).message}` });
          }
        }
        if (answer.kind === "hang") return;
        if (answer.kind === "reset" || answer.kind === "refuse") {
          req.socket.destroy();
          return;
        }
        const reply = answer;
        const write = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        };
        if (reply.delayMs) setTimeout(write, reply.delayMs).unref();
        else write();
      });
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        const addr = server.address() as net.AddressInfo;
        const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.indexOf(":") >= 0 ? `[${host}]` : host;
        resolve(`http://${shown}:${addr.port}`);
      });
    });
  }

  /** Stops serving and destroys open sockets (hung requests included). */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
