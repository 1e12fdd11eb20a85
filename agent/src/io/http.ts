/**
 * The transport: one request with its own deadline, over Node's core http/https.
 * No proxy, ever: core http never reads HTTP(S)_PROXY, and every request gets a fresh
 * Agent of its own (agent: false), so even a Node whose global agent honours
 * NODE_USE_ENV_PROXY cannot route IMDS through a proxy (the IMDS doc requires bypassing
 * proxies). No X-Forwarded-For is ever sent: IMDS rejects requests that carry one.
 * A fresh connection per request also means no stale keep-alive socket can fail a poll.
 */
import * as http from "http";
import * as https from "https";
import { MAX_BODY_BYTES } from "../core/constants";
import type { HttpRequest, HttpResult } from "../core/types";

export function request(req: HttpRequest): Promise<HttpResult> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let outgoing: http.ClientRequest | undefined;
    const settle = (result: HttpResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(result);
    };
    let url: URL;
    try {
      url = new URL(req.url);
    } catch (e) {
      settle({ kind: "error", code: "EINVALIDURL", message: `not a URL: ${req.url}` });
      return;
    }
    const client = url.protocol === "https:" ? https : http;
    timer = setTimeout(() => {
      settle({ kind: "error", code: "ETIMEDOUT", message: `no complete answer within ${req.timeoutMs} ms` });
      if (outgoing) outgoing.destroy();
    }, req.timeoutMs);
    outgoing = client.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || undefined,
        path: url.pathname + url.search,
        method: req.method,
        headers:
          req.body === undefined
            ? req.headers
            : { ...req.headers, "Content-Length": String(Buffer.byteLength(req.body)) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        const complete = () => {
          const headers: Record<string, string> = {};
          for (const name of Object.keys(res.headers)) {
            const v = res.headers[name];
            if (v !== undefined) headers[name.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
          }
          settle({
            kind: "response",
            status: res.statusCode || 0,
            headers,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        };
        const cut = () => settle({ kind: "error", code: "ECONNRESET", message: "connection closed mid-answer" });
        res.on("end", complete);
        res.on("aborted", cut);
        res.on("error", (e: NodeJS.ErrnoException) =>
          settle({ kind: "error", code: e.code || "ERESPONSE", message: e.message }),
        );
        // Node versions differ in whether "close" can precede "end": res.complete tells a whole answer from a
        // cut one, and setImmediate lets the last buffered chunks (emitted on nextTick) arrive first.
        res.on("close", () => (res.complete ? setImmediate(complete) : cut()));
      },
    );
    outgoing.on("error", (e: NodeJS.ErrnoException) =>
      settle({ kind: "error", code: e.code || "EREQUEST", message: e.message }),
    );
    outgoing.end(req.body);
  });
}
