import * as path from "path";

/** The repository root (this file is e2e/lib/paths.ts). */
export const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** Built guest images, one folder per cache key; survives between runs (gitignored). */
export const IMAGE_CACHE_DIR = path.join(REPO_ROOT, ".cache", "e2e");
/** Per-run scratch: overlays, seeds, serial logs, sockets, the PID registry (gitignored). */
export const WORK_DIR = path.join(REPO_ROOT, "e2e", ".work");
/** One file per process the e2e started, so a crashed mocha worker's children can still be killed by PID. */
export const PID_REGISTRY_DIR = path.join(WORK_DIR, "pids");
export const IMAGE_DIR = path.join(REPO_ROOT, "e2e", "image");
