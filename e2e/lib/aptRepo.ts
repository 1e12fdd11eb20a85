/**
 * The guest's only package source: a flat apt repository that the test builds at run time from
 * the image's cached Debian packages (nodejs and every dependency the image lacks, downloaded by
 * the image's own apt in build.sh) and serves itself over HTTP. The guest reaches it at
 * APT_REPO_URL through a slirp guestfwd, as it reaches the fake IMDS. A scenario can make it
 * refuse connections for a while: the mirror that is down at first boot.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo, Socket } from "net";
import * as path from "path";
import type { GuestImage } from "./image";
import { WORK_DIR } from "./paths";

/** Inside slirp's link-local network (guest.ts), away from IMDS, the host, DNS and DHCP addresses. */
export const APT_REPO_ADDRESS = "169.254.0.80";
/** Baked into the image's sources.list as `deb [trusted=yes] APT_REPO_URL ./`. */
export const APT_REPO_URL = `http://${APT_REPO_ADDRESS}/`;

/**
 * The indexed repository for `image`, built once per run directory: the .debs plus `Packages`
 * and `Release` from apt-ftparchive (apt-utils). Built in a scratch folder and renamed, so
 * concurrent test processes never see half of one.
 */
export function ensureAptRepo(image: GuestImage): string {
  const dir = path.join(WORK_DIR, `apt-repo-${image.key}`);
  if (fs.existsSync(path.join(dir, "Release"))) return dir;
  const scratch = `${dir}.partial-${process.pid}`;
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  for (const deb of fs.readdirSync(image.nodejsDebs).filter((f) => f.endsWith(".deb"))) {
    fs.copyFileSync(path.join(image.nodejsDebs, deb), path.join(scratch, deb));
  }
  const ftparchive = (...args: string[]) => execFileSync("apt-ftparchive", args, { cwd: scratch, encoding: "utf8" });
  fs.writeFileSync(path.join(scratch, "Packages"), ftparchive("packages", "."));
  fs.writeFileSync(path.join(scratch, "Release"), ftparchive("release", "."));
  try {
    fs.renameSync(scratch, dir);
  } catch {
    // Another process renamed its own copy first; both are the same.
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}

/** Repositories of older images are dead weight (~21 MB each); the runner removes them. */
export function removeStaleAptRepos(image: GuestImage): void {
  for (const entry of fs.readdirSync(WORK_DIR)) {
    if (/^apt-repo-[0-9a-f]+$/.test(entry) && entry !== `apt-repo-${image.key}`) {
      fs.rmSync(path.join(WORK_DIR, entry), { recursive: true, force: true });
    }
  }
}

/** The `Version:` of a package in the repository's index. */
export function repoVersion(repoDir: string, pkg: string): string {
  const stanza = fs
    .readFileSync(path.join(repoDir, "Packages"), "utf8")
    .split("\n\n")
    .find((s) => new RegExp(`^Package: ${pkg}$`, "m").test(s));
  const version = stanza && /^Version: (.+)$/m.exec(stanza)?.[1];
  if (!version) throw new Error(`the test's apt repository has no ${pkg}`);
  return version;
}

export interface RepoRequest {
  at: number;
  path: string;
  status: number;
}

export class AptRepoServer {
  readonly requests: RepoRequest[] = [];
  /** Host times of the connections it refused. */
  readonly refused: number[] = [];
  private refuseUntil = 0;
  /** While set, the first refused connection starts a refusal of this many ms. */
  private refuseFirstMs?: number;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly dir: string) {
    this.server = http.createServer((req, res) => this.serve(req, res));
    this.server.on("connection", (socket: Socket) => {
      if (Date.now() < this.refuseUntil) {
        if (this.refuseFirstMs !== undefined) {
          this.refuseUntil = Date.now() + this.refuseFirstMs;
          this.refuseFirstMs = undefined;
        }
        this.refused.push(Date.now());
        // A reset, as from a closed port; through slirp the guest sees its connection dropped.
        socket.resetAndDestroy();
        return;
      }
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  /** Listens on 127.0.0.1 and returns the port for the guest's forward. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Refuses every new connection until host time `until` (Infinity: until `accept()`). */
  refuseUntilTime(until: number): void {
    this.refuseUntil = until;
  }

  /**
   * Down for the guest's first `ms` of trying: refuses every connection from the first one until
   * `ms` later, however long the guest takes to boot (the hosts' load varies).
   */
  refuseFirst(ms: number): void {
    this.refuseUntil = Infinity;
    this.refuseFirstMs = ms;
  }

  /** When it started accepting again after refusing (0 while it still refuses or never did). */
  upSince(): number {
    return Number.isFinite(this.refuseUntil) ? this.refuseUntil : 0;
  }

  accept(): void {
    this.refuseUntil = 0;
    this.refuseFirstMs = undefined;
  }

  /** Successful downloads whose path matches `pattern`. */
  served(pattern: RegExp): RepoRequest[] {
    return this.requests.filter((r) => r.status === 200 && pattern.test(r.path));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const urlPath = path.posix.normalize(decodeURIComponent(new URL(req.url ?? "/", "http://repo").pathname));
    const file = path.join(this.dir, urlPath);
    const inside = file.startsWith(this.dir + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile();
    const status = !["GET", "HEAD"].includes(req.method ?? "") ? 405 : inside ? 200 : 404;
    this.requests.push({ at: Date.now(), path: urlPath, status });
    if (status !== 200) {
      res.writeHead(status).end();
      return;
    }
    res.writeHead(200, { "Content-Length": fs.statSync(file).size, "Content-Type": "application/octet-stream" });
    if (req.method === "HEAD") res.end();
    else fs.createReadStream(file).pipe(res);
  }
}
