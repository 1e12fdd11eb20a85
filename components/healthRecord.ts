/**
 * The shell that writes the health endpoint's state (agent/src/core/healthState.ts): the `record`
 * function both writers share (the launcher, and the worker unit's ExecStopPost= script) and the
 * launcher's record of a started worker. Only the contract's names; no unit or launcher logic.
 */
import { HEALTH_STATE_DIR, HEALTH_STATE_FILES, WorkerPhase } from "../agent/src/core/healthState";

export const HEALTH_STATE_FILE = `${HEALTH_STATE_DIR}/${HEALTH_STATE_FILES.worker}`;

/**
 * `record PHASE ["key=value ..."]` replaces the state file with one line (a temporary file in the
 * same directory, then `mv`), stamped with seconds since boot (/proc/uptime, the clock the health
 * server compares with). Best effort: a missing state directory never stops the worker.
 */
export function renderRecordFunction(): string {
  return `HEALTH_STATE=${HEALTH_STATE_FILE}
# The health endpoint's view of the worker (agent/src/core/healthState.ts): one line, replaced whole.
record() {
  up=0
  read -r up _ < /proc/uptime 2>/dev/null || true
  if printf '%s since=%s%s\\n' "$1" "\${up%.*}" "\${2:+ $2}" > "$HEALTH_STATE.$$" 2>/dev/null; then
    mv -f "$HEALTH_STATE.$$" "$HEALTH_STATE" 2>/dev/null || rm -f "$HEALTH_STATE.$$"
  fi
}`;
}

/**
 * The launcher's record of a started worker, just before it execs it: its pid (the launcher's, which
 * the worker keeps), the unit's cgroup (/proc/self/cgroup, cgroup v2) and its kind (the WorkerKind).
 */
export function renderRecordStarted(kind: string): string {
  return `cgroup=-
while IFS= read -r line; do
  case $line in 0::*) cgroup=\${line#0::} ;; esac
done < /proc/self/cgroup 2>/dev/null
record ${WorkerPhase.Started} "pid=$$ cgroup=$cgroup kind=${kind}"`;
}
