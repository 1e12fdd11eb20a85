/**
 * The health rules' checks: automatic repairs need a health source, and the Application Health
 * extension of a scale set that ships the waiter must probe what the VM's health endpoint serves.
 *
 * Sources: "Automatic instance repairs" (https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-automatic-instance-repairs):
 * "The scale set should have application health monitoring for instances enabled ... using either
 * Application Health extension or Load balancer health probes"; "Using Application Health extension"
 * (https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-health-extension):
 * Rich Health States are typeHandlerVersion 2.0, read from the body of an http(s) probe.
 */
import { HealthExtensionFacts, ScaleSetFacts } from "./facts";
import { HEALTH_PATH, HEALTH_SOCKET_UNIT } from "./generated/constants";
import { UNKNOWN } from "./unknowns";

const HEALTH_SOCKET_UNIT_PATH = `/etc/systemd/system/${HEALTH_SOCKET_UNIT}`;

export function checkRepairsHaveHealthSource(facts: ScaleSetFacts): string[] {
  if (facts.automaticRepairs !== true || facts.loadBalancerHealthProbe !== false) return [];
  if (facts.healthExtensions.length > 0) return [];
  return [
    "automaticRepairsPolicy is enabled but the scale set has no health source, so Azure cannot tell a broken VM from a working one (ARM refuses the policy: " +
      '"a health probe or health extension was not provided"): add the Application Health extension (WorkerScaleSet\'s healthExtension) or a load balancer health probe, or turn automatic repairs off',
  ];
}

/** The port the shipped health endpoint listens on: its socket unit's ListenStream=127.0.0.1:PORT, or undefined. */
export function servedHealthPort(files: Map<string, string>): number | undefined {
  const unit = files.get(HEALTH_SOCKET_UNIT_PATH);
  const m = unit && /^ListenStream=(?:127\.0\.0\.1:|localhost:)?(\d+)\s*$/m.exec(unit);
  return m ? Number(m[1]) : undefined;
}

function probeProblems(ext: HealthExtensionFacts, port: number | undefined): string[] {
  const fix = `probe it with typeHandlerVersion "2.0", protocol "http", port ${port ?? "(the endpoint's)"} and requestPath "${HEALTH_PATH}" (WorkerScaleSet's healthExtension does)`;
  const name = `the Application Health extension "${ext.extensionName}"`;
  const problems: string[] = [];
  if (typeof ext.typeHandlerVersion === "string" && !/^2(\.|$)/.test(ext.typeHandlerVersion)) {
    problems.push(
      `${name} has typeHandlerVersion "${ext.typeHandlerVersion}" (Binary Health States): it counts any 200 as healthy, and the health endpoint answers 200 while the waiter waits and after the worker stopped`,
    );
  }
  if (ext.protocol === "tcp") {
    problems.push(`${name} probes over tcp: an open port says nothing about whether the worker runs`);
  } else if (ext.protocol === "https") {
    problems.push(`${name} probes over https, but the health endpoint speaks http: every probe fails (Unknown)`);
  }
  if (ext.protocol !== "tcp") {
    if (port === undefined) {
      problems.push(`${name} probes an endpoint custom data does not ship (no ${HEALTH_SOCKET_UNIT})`);
    } else if (typeof ext.port === "number" && ext.port !== port) {
      problems.push(`${name} probes port ${ext.port}, but the health endpoint listens on 127.0.0.1:${port}`);
    } else if (ext.port === undefined) {
      problems.push(`${name} sets no port, so it probes port 80, but the health endpoint listens on 127.0.0.1:${port}`);
    }
    if (typeof ext.requestPath === "string" && ext.requestPath !== HEALTH_PATH) {
      problems.push(`${name} requests "${ext.requestPath}", but the health endpoint serves only "${HEALTH_PATH}"`);
    } else if (ext.requestPath === undefined) {
      problems.push(`${name} sets no requestPath, but the health endpoint serves only "${HEALTH_PATH}"`);
    }
  }
  return problems.map((p) => `${p}: ${fix}`);
}

/** A scale set that ships the waiter: each Application Health extension must be able to see its worker. */
export function checkHealthProbeSeesWorker(facts: ScaleSetFacts): string[] {
  if (!facts.shipsWaiter || facts.healthExtensions.length === 0) return [];
  const port = servedHealthPort(facts.files);
  return facts.healthExtensions.flatMap((ext) =>
    ext.protocol === UNKNOWN || ext.port === UNKNOWN || ext.requestPath === UNKNOWN ? [] : probeProblems(ext, port),
  );
}
