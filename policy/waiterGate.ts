/**
 * Whether a command starts work only through the waiter: the launcher or the waiter itself, or a
 * systemd unit whose every ExecStart is one of them. A small tokenizer of `systemctl` commands finds
 * the units a command starts; the worker command file written by custom data tells a direct start of
 * the worker apart from anything else a VM runs at boot.
 */
import { HEALTH_SERVER_PATH, LAUNCHER_PATH, WAITER_PATH, WORKER_COMMAND_PATH } from "./generated/constants";
import { ScaleSetFacts } from "./facts";

/** systemd's unit directory for units an administrator installs. https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html */
const SYSTEMD_UNIT_DIR = "/etc/systemd/system/";

/** cloud-init runs every executable in these directories (cc_scripts_per_boot, _per_instance, _per_once).
 *  https://cloudinit.readthedocs.io/en/latest/reference/modules.html#scripts-per-boot */
const CLOUD_INIT_SCRIPT_DIR_RE = /^\/var\/lib\/cloud\/scripts\/per-(boot|instance|once)\//;

const SYSTEMCTL_START_VERBS = new Set(["start", "restart", "try-restart", "reload-or-restart", "enable"]);

/**
 * A CSE command starts work only through the waiter when it runs the launcher or the waiter itself,
 * or starts a systemd unit that custom data installs with the launcher as its ExecStart.
 */
export function goesThroughWaiter(command: string, files: Map<string, string> = new Map()): boolean {
  if (mentionsWaiter(command)) return true;
  const units = startedUnits(command);
  return units.length > 0 && units.every((u) => gatedUnit(files.get(SYSTEMD_UNIT_DIR + u) ?? "", files));
}

function mentionsWaiter(text: string): boolean {
  return text.includes(LAUNCHER_PATH) || text.includes(WAITER_PATH);
}

/** Units a command starts with `systemctl start|restart|enable …` (options skipped, ".service" implied). */
export function startedUnits(command: string): string[] {
  const units: string[] = [];
  for (const segment of command.split(/;|&&|\|\||\n/)) {
    const tokens = segment.trim().split(/\s+/);
    const at = tokens.findIndex((t) => /(^|\/)systemctl$/.test(t));
    if (at < 0) continue;
    const args = tokens.slice(at + 1).filter((t) => !t.startsWith("-"));
    if (!SYSTEMCTL_START_VERBS.has(args[0] ?? "")) continue;
    for (const unit of args.slice(1)) units.push(/\.[a-z]+$/.test(unit) ? unit : `${unit}.service`);
  }
  return units;
}

/**
 * Every ExecStart runs the launcher or the waiter, or a script custom data writes that runs the waiter
 * bundle and never reads the worker command (the drain watcher's `drain-watch`, which runs
 * `waiter.js drain-watcher`).
 */
function gatedUnit(unit: string, files: Map<string, string>): boolean {
  const execStarts = unit.match(/^\s*ExecStart\s*=.*$/gm) ?? [];
  const runsWaiterScript = (line: string) => {
    const program = line.replace(/^\s*ExecStart\s*=\s*[-@:+!]*/, "").split(/\s+/)[0];
    const script = files.get(program);
    return script !== undefined && mentionsWaiter(script) && !script.includes(WORKER_COMMAND_PATH);
  };
  return execStarts.length > 0 && execStarts.every((line) => mentionsWaiter(line) || runsWaiterScript(line));
}

/** The shipped health endpoint only answers probes (it reads state, starts nothing). */
function healthEndpointUnit(unit: string): boolean {
  const execStarts = unit.match(/^\s*ExecStart\s*=.*$/gm) ?? [];
  return execStarts.length > 0 && execStarts.every((line) => line.trim() === `ExecStart=${HEALTH_SERVER_PATH}`);
}

/**
 * The service a started unit runs: itself, or for a socket unit the service it activates (its
 * Service=, else the service of the same name; systemd.socket(5)).
 */
function activatedService(unit: string, files: Map<string, string>): { name: string; text: string | undefined } {
  if (!unit.endsWith(".socket")) return { name: unit, text: files.get(SYSTEMD_UNIT_DIR + unit) };
  const socket = files.get(SYSTEMD_UNIT_DIR + unit);
  const named = socket ? /^\s*Service\s*=\s*(\S+)\s*$/m.exec(socket) : null;
  const name = named ? named[1] : unit.replace(/\.socket$/, ".service");
  return { name, text: files.get(SYSTEMD_UNIT_DIR + name) };
}

/** Whether `command` stands in `text` as a whole command line, not inside a longer word (a one-letter
 *  worker command is not "in" `hpc-worker.service`). */
function holdsCommand(text: string, command: string): boolean {
  const escaped = command.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[\\s'"\`;&|(])${escaped}(?=$|[\\s'"\`;&|)])`).test(text);
}

/** A scale set runs the waiter when its custom data ships it or a CSE command calls it. */
export function runsWaiter(facts: ScaleSetFacts): boolean {
  return (
    facts.shipsWaiter || facts.customScripts.some((c) => typeof c.command === "string" && goesThroughWaiter(c.command))
  );
}

/**
 * Where custom data that ships the waiter also starts the worker without it: a runcmd or bootcmd
 * entry, or a cloud-init per-boot/per-instance/per-once script, that runs the worker command (reads
 * its file, or holds its text) or starts a unit written by custom data whose ExecStart bypasses the
 * launcher. Units custom data does not write (ssh, a package's own) are not the worker.
 */
export function directWorkerStarts(facts: ScaleSetFacts): string[] {
  const workerCommand = facts.files.get(WORKER_COMMAND_PATH)?.trim();
  const triggers = [
    ...facts.commands.map((c) => ({ source: c.source, text: c.text })),
    ...[...facts.files]
      .filter(([path]) => CLOUD_INIT_SCRIPT_DIR_RE.test(path))
      .map(([path, text]) => ({ source: path, text })),
  ];
  return triggers
    .filter(({ text }) => {
      if (mentionsWaiter(text)) return false;
      const runsWorkerCommand =
        text.includes(WORKER_COMMAND_PATH) || (!!workerCommand && holdsCommand(text, workerCommand));
      const startsUngatedUnit = startedUnits(text).some((unit) => {
        const written = activatedService(unit, facts.files).text;
        return written !== undefined && !gatedUnit(written, facts.files) && !healthEndpointUnit(written);
      });
      return runsWorkerCommand || startsUngatedUnit;
    })
    .map(({ source }) => source);
}
