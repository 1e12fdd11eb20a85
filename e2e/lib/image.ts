/**
 * The guest image, built once by e2e/image/build.sh and cached under .cache/e2e/<key>, where the
 * key hashes every file of e2e/image (package list, build script, baked files) and the local apt
 * repository's URL baked into it: change any and the next run rebuilds.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { APT_REPO_URL } from "./aptRepo";
import { IMAGE_CACHE_DIR, IMAGE_DIR } from "./paths";
import { spawnTracked } from "./processes";

const PACKAGES_FILE = path.join(IMAGE_DIR, "packages.txt");
const BUILD_SCRIPT = path.join(IMAGE_DIR, "build.sh");
/** Hex digits of the sha256 kept in the folder name: enough to never collide in one cache. */
const KEY_LENGTH = 16;
/** A cold build takes about 40 s here; a slow mirror may take several minutes. */
const BUILD_TIMEOUT_MS = 20 * 60 * 1000;

export interface GuestImage {
  key: string;
  dir: string;
  rootfs: string;
  kernel: string;
  initrd: string;
  /** Debian's nodejs and the dependencies the image lacks, for the test's apt repository. */
  nodejsDebs: string;
}

/** Every file under `dir`, relative, sorted: the image's inputs. */
function filesUnder(dir: string, prefix = ""): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, path.join(prefix, e.name)) : [path.join(prefix, e.name)]))
    .sort();
}

export function imageKey(): string {
  const hash = createHash("sha256");
  for (const file of filesUnder(IMAGE_DIR)) {
    const full = path.join(IMAGE_DIR, file);
    const mode = (fs.statSync(full).mode & 0o777).toString(8);
    hash.update(file).update("\0").update(mode).update("\0").update(fs.readFileSync(full)).update("\0");
  }
  hash.update(APT_REPO_URL);
  return hash.digest("hex").slice(0, KEY_LENGTH);
}

function describe(key: string): GuestImage {
  const dir = path.join(IMAGE_CACHE_DIR, key);
  return {
    key,
    dir,
    rootfs: path.join(dir, "rootfs.img"),
    kernel: path.join(dir, "vmlinuz"),
    initrd: path.join(dir, "initrd.img"),
    nodejsDebs: path.join(dir, "nodejs-debs"),
  };
}

/** The cached image, or undefined when it still has to be built. */
export function cachedImage(): GuestImage | undefined {
  const image = describe(imageKey());
  return [image.rootfs, image.kernel, image.initrd, image.nodejsDebs].every((f) => fs.existsSync(f))
    ? image
    : undefined;
}

/** Returns the cached image, building it first when the cache has none for the current key. */
export async function ensureImage(log: (line: string) => void): Promise<GuestImage> {
  const cached = cachedImage();
  if (cached) {
    log(`e2e: guest image ${cached.key} is cached in ${cached.dir}`);
    return cached;
  }
  const image = describe(imageKey());
  fs.mkdirSync(IMAGE_CACHE_DIR, { recursive: true });
  log(`e2e: building guest image ${image.key} (cold: about a minute) ...`);
  const started = Date.now();
  const child = spawnTracked("bash", [BUILD_SCRIPT, PACKAGES_FILE, image.dir, APT_REPO_URL], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const timer = setTimeout(() => child.kill("SIGTERM"), BUILD_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(
      `building the e2e guest image failed (build.sh exit ${code}); see its output above. ` +
        `It needs root, mmdebstrap, e2fsprogs and a reachable Debian mirror.`,
    );
  }
  log(`e2e: guest image built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  // Images of older keys are dead weight (~0.7 GB each); they are ours to remove.
  for (const entry of fs.readdirSync(IMAGE_CACHE_DIR)) {
    if (entry !== image.key && /^[0-9a-f]+(\.partial)?$/.test(entry)) {
      fs.rmSync(path.join(IMAGE_CACHE_DIR, entry), { recursive: true, force: true });
    }
  }
  return image;
}
