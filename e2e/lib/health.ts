/**
 * The health endpoint in a real guest, probed as the Application Health extension probes it: the
 * probe settings (protocol, port, requestPath) come from the scale set model the component renders
 * for the scenario's options (components/extensions.ts scaleSetExtensions, the list the component
 * puts in extensionProfile), and `curl` inside the guest GETs `localhost` with them, as the
 * extension does (applicationhealth-extension-linux main/health.go). No guest boots of its own.
 */
import * as assert from "assert";
import { HEALTH_EXTENSION_NAME, HealthExtension, HealthState, scaleSetExtensions } from "../../components";
import { Scenario, timing } from "./scenario";

/** Answers are read at each probe; a change shows at the next one. Generous for TCG. */
export const HEALTH_CHANGE_MAX_MS = 90_000;
/**
 * curl's whole-request limit: the extension's own (30 s, its main/health.go). The first probe of a
 * boot starts the service, and Node.js starting under TCG on a loaded host takes seconds.
 */
const CURL_MAX_SECONDS = 30;
const POLL_MS = 1_000;

/** The health extension's settings in the scale set model rendered for this scenario. */
export function probeSettings(s: Scenario): HealthExtension["settings"] {
  const extension = scaleSetExtensions(s.options).find((e) => e.name === HEALTH_EXTENSION_NAME) as
    HealthExtension | undefined;
  assert.ok(extension, "the scale set model has no Application Health extension");
  return extension.settings;
}

/** One probe inside the guest: the body's ApplicationHealthState, or why there is none. */
export async function probeHealth(s: Scenario): Promise<string> {
  const { protocol, port, requestPath } = probeSettings(s);
  const url = `${protocol}://localhost:${port}${requestPath}`;
  const r = await s.rootShell(
    `curl --silent --show-error --max-time ${CURL_MAX_SECONDS} --noproxy '*' --write-out '\\n%{http_code}' ${url}`,
    (CURL_MAX_SECONDS + 20) * 1000,
  );
  if (r.exitcode !== 0) return `(curl ${url} failed ${r.exitcode}: ${r.stderr.trim()})`;
  const [body, status] = r.stdout.split("\n");
  if (status !== "200") return `(HTTP ${status}: ${body})`;
  try {
    return String(JSON.parse(body).ApplicationHealthState);
  } catch {
    return `(not JSON: ${body})`;
  }
}

/**
 * The endpoint answers `state` now: the first valid answer must be it. A probe that gets no valid
 * answer (the first probe of a boot starts the service, and Node.js takes seconds to start under
 * TCG on a loaded host) is retried until HEALTH_CHANGE_MAX_MS, as the extension would probe again.
 */
export async function assertHealth(s: Scenario, state: HealthState, when: string): Promise<void> {
  const deadline = Date.now() + HEALTH_CHANGE_MAX_MS;
  for (;;) {
    const answer = await probeHealth(s);
    if (answer.startsWith("(") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      continue;
    }
    assert.strictEqual(answer, state, `the health endpoint ${when}`);
    return;
  }
}

/** Probes until the endpoint answers `state`; returns the ms it took. Fails on `never` (e.g. Healthy on an extra). */
export async function waitForHealth(
  s: Scenario,
  state: HealthState,
  when: string,
  opts: { timeoutMs?: number; never?: HealthState } = {},
): Promise<number> {
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? HEALTH_CHANGE_MAX_MS);
  const seen: string[] = [];
  for (;;) {
    const answer = await probeHealth(s);
    if (seen[seen.length - 1] !== answer) seen.push(answer);
    assert.notStrictEqual(answer, opts.never, `the health endpoint answered ${opts.never} ${when}`);
    if (answer === state) return Date.now() - started;
    assert.ok(Date.now() < deadline, `the health endpoint ${when} answered ${seen.join(" → ")}, never ${state}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export const HEALTH_RESTART_TITLE =
  "health: a killed worker is Initializing while systemd restarts it, then Healthy; Unhealthy once stopped for good";

/**
 * The end of a scenario whose worker runs: SIGKILL (Restart=on-failure restarts it: Initializing,
 * never Unhealthy, then Healthy once the waiter read Succeeded again), then `systemctl stop`
 * (stopped for good: Unhealthy).
 */
export async function healthThroughRestartAndStop(s: Scenario, name: string): Promise<void> {
  const killedAt = Date.now();
  const kill = await s.rootShell("systemctl kill --signal=SIGKILL hpc-worker.service", 30_000);
  assert.strictEqual(kill.exitcode, 0, kill.stderr);
  await waitForHealth(s, HealthState.Initializing, "while systemd restarts the killed worker", {
    never: HealthState.Unhealthy,
  });
  // RestartSec (10 s), the launcher's first back-off (5 s), node and the waiter's first read, under TCG.
  await waitForHealth(s, HealthState.Healthy, "once the restarted worker runs", {
    timeoutMs: 180_000,
    never: HealthState.Unhealthy,
  });
  timing(name, "worker killed to Healthy again", Date.now() - killedAt);
  const stop = await s.rootShell("systemctl stop hpc-worker.service", 60_000);
  assert.strictEqual(stop.exitcode, 0, stop.stderr);
  await waitForHealth(s, HealthState.Unhealthy, "after systemctl stop (stopped for good)");
}
