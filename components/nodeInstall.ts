/**
 * The Node.js installer (installNodejs): a root script run by `hpc-node-install.service`, which
 * `hpc-worker.service` pulls in. It replaces cloud-init's `packages:` module, which runs once per
 * instance, gives up on a held dpkg lock, and leaves nothing that says the VM will never work.
 *
 * It exits at once when `node` exists. Otherwise it retries `apt-get update` and
 * `apt-get install nodejs` with back-off until it succeeds or the waiter's deadline passes, and
 * writes one journal line per attempt: what happened, and when the next try is. It tolerates:
 * - the apt/dpkg locks held at first boot (apt-daily, unattended-upgrades): apt waits up to
 *   NODE_INSTALL_LOCK_TIMEOUT_SECONDS for the dpkg lock in each attempt; the lists lock, which
 *   `apt-get update` does not wait for, fails the attempt and the next one comes later;
 * - a failing `apt-get update` or a mirror down for a while: the next attempt comes later;
 * - a dpkg run interrupted by a reboot: `dpkg --configure -a` repairs it before the next attempt.
 * When it gives up it exits non-zero and stays failed; the launcher then ends the worker unit in
 * its final "no usable Node.js" status, and `systemctl restart hpc-worker` starts it again.
 */
import { NODE_INSTALL_UNIT, WORKER_UNIT, shortUnitName } from "./defaults";
import { LAUNCHER_NO_USABLE_NODE_EXIT } from "./launcher";
import { DEFAULT_WAITER_TIMEOUT_SECONDS } from "./waiterContract";

/** The distribution's package that provides `node` (Debian ≥ 10, Ubuntu ≥ 18.04). */
export const NODE_PACKAGE = "nodejs";
/** How long apt waits for the dpkg lock inside one attempt (apt's DPkg::Lock::Timeout). */
export const NODE_INSTALL_LOCK_TIMEOUT_SECONDS = 60;
/** Back-off between attempts: the first delay, doubled after each failure up to the cap. */
export const NODE_INSTALL_RETRY_INITIAL_SECONDS = 5;
export const NODE_INSTALL_RETRY_MAX_SECONDS = 30;
/** The installer's exit status when its deadline passed (the unit then stays `failed`). */
export const NODE_INSTALL_GAVE_UP_EXIT = 1;

export interface NodeInstallerOptions {
  /** Seconds after its start when it stops trying: the waiter's timeoutSeconds. */
  deadlineSeconds?: number;
}

/** The installer script. The variables at the top are its only inputs; tests swap them for stubs. */
export function renderNodeInstaller(options: NodeInstallerOptions = {}): string {
  const deadline = options.deadlineSeconds ?? DEFAULT_WAITER_TIMEOUT_SECONDS;
  return `#!/bin/sh
# hpc-workers: installs the distribution's ${NODE_PACKAGE} for the waiter. Runs as root in ${NODE_INSTALL_UNIT},
# which ${WORKER_UNIT} pulls in; retries until it succeeds or ${deadline} s (the waiter's timeout) pass.
# Logs, one line per attempt: journalctl -u ${shortUnitName(NODE_INSTALL_UNIT)}
set -u
NODE=node
PACKAGE=${NODE_PACKAGE}
UPTIME_FILE=/proc/uptime
DEADLINE_SECONDS=${deadline}

if command -v "$NODE" >/dev/null 2>&1; then
  echo "node $("$NODE" --version 2>/dev/null) is installed; nothing to do"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT

# Seconds since boot: unlike the wall clock, it does not jump when the time is synchronised.
uptime_seconds() {
  read -r up _ < "$UPTIME_FILE"
  echo "\${up%%.*}"
}

# apt's first error or warning, on one line, for the journal.
apt_says() {
  line=$(grep -m1 -E '^(E|W): ' "$out" | tr -s ' \\t' ' ' | cut -c1-240)
  echo "\${line:-no message}"
}

# apt's "Could not get lock ..." (lists, dpkg frontend, dpkg) and "Unable to acquire ...".
lock_held() {
  grep -q -E '^E: (Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock)' "$out"
}

# One attempt; sets "result" to what happened, returns 0 once node is installed.
attempt_install() {
  apt-get -q -o DPkg::Lock::Timeout=${NODE_INSTALL_LOCK_TIMEOUT_SECONDS} update >"$out" 2>&1
  status=$?
  if [ "$status" -ne 0 ] && lock_held; then
    result="apt lock held: apt-get update: $(apt_says)"
    return 1
  fi
  # A partly failed update can still leave the lists that hold the package: try the install anyway.
  update=""
  if [ "$status" -ne 0 ] || grep -q -E '^(E|W): ' "$out"; then
    update="apt-get update exit $status: $(apt_says); "
  fi
  apt-get -q -y --no-install-recommends -o DPkg::Lock::Timeout=${NODE_INSTALL_LOCK_TIMEOUT_SECONDS} install "$PACKAGE" >"$out" 2>&1
  status=$?
  if [ "$status" -eq 0 ] && command -v "$NODE" >/dev/null 2>&1; then
    result="\${update}installed $PACKAGE: node $("$NODE" --version 2>/dev/null)"
    return 0
  fi
  if lock_held; then
    result="\${update}apt lock held: apt-get install: $(apt_says)"
  elif grep -q "dpkg was interrupted" "$out"; then
    dpkg --configure -a >"$out" 2>&1
    result="\${update}dpkg was interrupted; dpkg --configure -a exit $?"
  else
    result="\${update}apt-get install failed (exit $status): $(apt_says)"
  fi
  return 1
}

started=$(uptime_seconds)
delay=${NODE_INSTALL_RETRY_INITIAL_SECONDS}
attempt=1
echo "node is missing: installing $PACKAGE with apt-get, retrying for up to $DEADLINE_SECONDS s"
until attempt_install; do
  elapsed=$(($(uptime_seconds) - started))
  if [ $((elapsed + delay)) -ge "$DEADLINE_SECONDS" ]; then
    echo "attempt $attempt: $result; giving up after $elapsed s, as a next try would start past the $DEADLINE_SECONDS s deadline: ${WORKER_UNIT} ends with exit status ${LAUNCHER_NO_USABLE_NODE_EXIT}. Fix the package source (or use an image with Node.js), then: systemctl restart ${shortUnitName(WORKER_UNIT)}"
    exit ${NODE_INSTALL_GAVE_UP_EXIT}
  fi
  echo "attempt $attempt: $result; next try in $delay s"
  sleep "$delay"
  delay=$((delay * 2))
  [ "$delay" -gt ${NODE_INSTALL_RETRY_MAX_SECONDS} ] && delay=${NODE_INSTALL_RETRY_MAX_SECONDS}
  attempt=$((attempt + 1))
done
echo "attempt $attempt: $result, $(($(uptime_seconds) - started)) s after the first attempt"
`;
}
