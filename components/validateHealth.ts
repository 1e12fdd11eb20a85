/**
 * The checks of the health extension's arguments and of automatic repairs: the port the endpoint
 * listens on, the gracePeriod ceiling the waiter's timeout must fit under, and the repairs policy.
 */
import type { InputPropertyErrorDetails } from "@pulumi/pulumi";
import { isoDurationMinutes } from "./azureFormats";
import {
  DEFAULT_AUTOMATIC_REPAIRS_ENABLED,
  HEALTH_BOOT_ALLOWANCE_SECONDS,
  healthProbeSettleSeconds,
  MAX_HEALTH_GRACE_PERIOD_SECONDS,
  MAX_HEALTH_PORT,
  MAX_REPAIR_GRACE_MINUTES,
  MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION,
  MIN_HEALTH_PORT,
  MIN_REPAIR_GRACE_MINUTES,
  RepairAction,
} from "./health";
import { Check, NOT_YET_KNOWN, enumChoice, known, problem, show } from "./validateBase";

export const checkHealthPort: Check = (args) => {
  const v = args.healthPort;
  if (!known(v)) return [];
  return typeof v === "number" && Number.isInteger(v) && v >= MIN_HEALTH_PORT && v <= MAX_HEALTH_PORT
    ? []
    : [
        problem(
          "healthPort",
          `must be an integer from ${MIN_HEALTH_PORT} to ${MAX_HEALTH_PORT}: unprivileged, and below the ports Linux hands out for outgoing connections (got ${show(v)})`,
        ),
      ];
};

/** The extension's gracePeriod (timeout + boot allowance + settle time) has a ceiling of 14,400 s. */
export const checkHealthGrace: Check = (args) => {
  const v = args.timeoutSeconds;
  if (args.healthExtension === false || args.healthExtension === NOT_YET_KNOWN || !known(v)) return [];
  if (typeof v !== "number" || v <= MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION) return [];
  return [
    problem(
      "timeoutSeconds",
      `must be at most ${MAX_TIMEOUT_SECONDS_WITH_HEALTH_EXTENSION} with the health extension on (got ${show(v)}): its gracePeriod, ` +
        `timeoutSeconds + ${HEALTH_BOOT_ALLOWANCE_SECONDS} s to boot + ${healthProbeSettleSeconds()} s of probes, cannot exceed ${MAX_HEALTH_GRACE_PERIOD_SECONDS} s; ` +
        "lower timeoutSeconds, or set healthExtension: false",
    ),
  ];
};

export const checkAutomaticRepairs: Check = (args) => {
  const v = args.automaticRepairs as Record<string, unknown> | undefined;
  if (!known(v)) return [];
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return [problem("automaticRepairs", `must be an object { enabled, gracePeriod, action } (got ${show(v)})`)];
  }
  const out: InputPropertyErrorDetails[] = [];
  if (known(v.enabled) && typeof v.enabled !== "boolean") {
    out.push(problem("automaticRepairs.enabled", `must be true or false (got ${show(v.enabled)})`));
  }
  const grace = v.gracePeriod;
  if (known(grace)) {
    const minutes = typeof grace === "string" ? isoDurationMinutes(grace) : undefined;
    if (minutes === undefined || minutes < MIN_REPAIR_GRACE_MINUTES || minutes > MAX_REPAIR_GRACE_MINUTES) {
      out.push(
        problem(
          "automaticRepairs.gracePeriod",
          `must be an ISO 8601 duration from PT${MIN_REPAIR_GRACE_MINUTES}M to PT${MAX_REPAIR_GRACE_MINUTES}M, e.g. "PT30M" or "PT1H" (got ${show(grace)})`,
        ),
      );
    }
  }
  const action = v.action;
  if (known(action) && !Object.values(RepairAction).includes(action as RepairAction)) {
    out.push(
      problem("automaticRepairs.action", `must be ${enumChoice("RepairAction", RepairAction)} (got ${show(action)})`),
    );
  }
  const enabled = v.enabled === NOT_YET_KNOWN ? undefined : (v.enabled ?? DEFAULT_AUTOMATIC_REPAIRS_ENABLED);
  if (enabled === true && args.healthExtension === false) {
    out.push(
      problem(
        "automaticRepairs",
        "needs a health source, and healthExtension is false (Azure refuses repairs without one): set healthExtension: true, or automaticRepairs.enabled: false",
      ),
    );
  }
  return out;
};
