/**
 * The health endpoint's thin shell: an http server on 127.0.0.1 that answers each probe from
 * the state files (core/healthState.ts) read at that moment. Nothing runs between requests.
 */
import * as http from "http";
import * as os from "os";
import { readTextFile } from "./env";
import { readHealth } from "../core/healthState";
import type { HealthEnv } from "../core/healthState";
import {
  HEALTH_BIND_ADDRESS,
  HEALTH_EXIT_CODES,
  HEALTH_PATH,
  inheritedSocketFd,
  probeReply,
  routeRequest,
} from "../core/healthServer";
import type { HealthReply, HealthServerOptions } from "../core/healthServer";

/** A probe answers in milliseconds; a client that holds a socket longer is cut. */
const SOCKET_IDLE_MS = 10000;
/** The extension probes one at a time; this bounds what a stuck local client can hold. */
const MAX_CONNECTIONS = 64;

const machine: HealthEnv = {
  readFile: readTextFile,
  uptimeSeconds: os.uptime,
  processAlive(pid: number) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      // EPERM: it exists but belongs to someone else.
      return (e as NodeJS.ErrnoException).code === "EPERM";
    }
  },
};

function send(res: http.ServerResponse, answer: HealthReply, head: boolean): void {
  answer.headers["Content-Length"] = String(Buffer.byteLength(answer.body));
  res.writeHead(answer.status, answer.headers);
  res.end(head ? undefined : answer.body);
}

export function serveHealth(options: HealthServerOptions, log: (line: string) => void): http.Server {
  let last = "";
  const server = http.createServer((req, res) => {
    const route = routeRequest(req.method, req.url);
    if (route !== "probe") return send(res, route, req.method === "HEAD");
    readHealth(machine, options).then(
      (verdict) => {
        const line = `${verdict.state}: ${verdict.reason}`;
        if (line !== last) log((last = line));
        send(res, probeReply(verdict.state), req.method === "HEAD");
      },
      (e: Error) => {
        // A bug: a 500 is Unknown to the extension, the honest answer.
        log(`internal error: ${(e && e.stack) || e}`);
        send(res, { status: 500, headers: {}, body: "" }, true);
      },
    );
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.setTimeout(SOCKET_IDLE_MS);
  const fd = inheritedSocketFd(process.env, process.pid);
  const where = fd === undefined ? `${HEALTH_BIND_ADDRESS}:${options.port}` : `systemd's fd ${fd}`;
  server.on("error", (e: NodeJS.ErrnoException) => {
    log(`cannot listen on ${where}: ${e.code || e.message}`);
    process.exit(HEALTH_EXIT_CODES.cannotListen);
  });
  const listening = () => {
    const address = server.address() as { address: string; port: number };
    log(`serving http://${address.address}:${address.port}${HEALTH_PATH} (${where})`);
  };
  if (fd === undefined) server.listen(options.port, HEALTH_BIND_ADDRESS, listening);
  else server.listen({ fd }, listening);
  return server;
}
