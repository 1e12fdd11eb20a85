/**
 * The offline preview's health lines for a scale set: the endpoint custom data ships, the
 * Application Health extension that probes it, and the automatic repairs policy.
 */
import { scaleSetFacts } from "../../policy/facts";
import { servedHealthPort } from "../../policy/healthChecks";
import { UNKNOWN } from "../../policy/unknowns";

const fmt = (n: number) => n.toLocaleString("en-US");
const shown = (v: unknown) => (v === UNKNOWN ? "(unknown)" : v === undefined ? "(unset)" : String(v));

export function renderHealthLines(inputs: Record<string, any>): string[] {
  const facts = scaleSetFacts(inputs);
  const port = servedHealthPort(facts.files);
  const lines = [`    endpoint:      ${port === undefined ? "not shipped" : `http://127.0.0.1:${port}/health`}`];
  const extensions: any[] = inputs.virtualMachineProfile?.extensionProfile?.extensions ?? [];
  if (facts.healthExtensions.length === 0) {
    lines.push(
      `    health:        no Application Health extension${facts.loadBalancerHealthProbe === true ? " (a load balancer probe)" : ""}`,
    );
  }
  for (const ext of facts.healthExtensions) {
    const raw = extensions.find((e) => e?.name === ext.extensionName) ?? {};
    const s = raw.settings ?? {};
    const grace = typeof s.gracePeriod === "number" ? `${fmt(s.gracePeriod)} s` : shown(s.gracePeriod);
    const after: string[] = raw.provisionAfterExtensions ?? [];
    lines.push(
      `    health:        ${ext.extensionName} (${raw.type} ${shown(ext.typeHandlerVersion)}) probes ${shown(ext.protocol)}://localhost:${shown(ext.port)}${shown(ext.requestPath)} every ${shown(s.intervalInSeconds)} s, ${shown(s.numberOfProbes)} probes, grace ${grace}${after.length ? `, after ${after.join(", ")}` : ""}`,
    );
  }
  const repairs = inputs.automaticRepairsPolicy;
  lines.push(
    `    repairs:       ${
      repairs?.enabled === true
        ? `on: ${shown(repairs.repairAction)} an Unhealthy or Unknown VM, grace ${shown(repairs.gracePeriod)}`
        : repairs
          ? "off (automaticRepairsPolicy.enabled is not true)"
          : "off"
    }`,
  );
  return lines;
}
