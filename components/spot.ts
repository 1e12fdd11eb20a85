/**
 * Spot priority and the notice Azure gives before it takes a VM away (Scheduled Events), as the
 * scale set's model carries them, and the checks of the arguments that set them. The drain
 * watcher on each VM turns the notice into a drain; its numbers come from the agent.
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/use-spot
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-terminate-notification
 */
import type { InputPropertyErrorDetails } from "@pulumi/pulumi";
import {
  DEFAULT_DRAIN_SECONDS as AGENT_DEFAULT_DRAIN_SECONDS,
  MAX_DRAIN_SECONDS as AGENT_MAX_DRAIN_SECONDS,
  PREEMPT_NOTICE_SECONDS,
  SCHEDULED_EVENTS_POLL_MS,
} from "../agent/src/core/constants";
import { DRAIN_SAFETY_MARGIN_MS } from "../agent/src/core/drainPlan";
import {
  DEFAULT_MAX_PRICE,
  MAX_PRICE_DECIMALS,
  MAX_TERMINATE_NOTIFICATION_SECONDS,
  MIN_TERMINATE_NOTIFICATION_SECONDS,
  SPOT_EVICTION_POLICY,
} from "./defaults";
import { WorkerScaleSetArgumentsError } from "./argumentsError";
import { isoDurationSeconds, validMaxPrice } from "./azureFormats";
import { Unknowable, enumChoice, known, problem, show } from "./validateBase";

/** Whether the scale set's VMs are Regular or Spot. */
export const Priority = {
  /** Regular VMs: Azure does not take them back. */
  Regular: "Regular",
  /** Spot VMs: spare capacity at a discount, deleted when Azure needs it back, about 30 s after a Preempt notice. */
  Spot: "Spot",
} as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

/** The drain watcher's drain time when `drainSeconds` is not set (agent/src/core/constants.ts). */
export const DEFAULT_DRAIN_SECONDS = AGENT_DEFAULT_DRAIN_SECONDS;
/** The watcher's --drain-seconds limit: the longest notice a delete gives. */
export const MAX_DRAIN_SECONDS = AGENT_MAX_DRAIN_SECONDS;

/** The longest drain a notice of `noticeSeconds` allows: the watcher may see it a poll period late, and keeps its safety margin. */
export function drainWithin(noticeSeconds: number): number {
  return Math.floor(noticeSeconds - (SCHEDULED_EVENTS_POLL_MS + DRAIN_SAFETY_MARGIN_MS) / 1000);
}

/** The longest drain a Spot eviction allows (26 s). */
export const SPOT_MAX_DRAIN_SECONDS = drainWithin(PREEMPT_NOTICE_SECONDS);

type SpotArgs = Unknowable<{
  priority: Priority;
  maxPrice: number;
  terminateNotification: string;
  drainSeconds: number;
}>;

/**
 * Every problem with priority, maxPrice, terminateNotification and drainSeconds, the ones Azure
 * would refuse included (its error codes: https://learn.microsoft.com/azure/virtual-machines/error-codes-spot).
 * A value not known yet is skipped, and so are the checks that need it.
 */
export function spotProblems(args: SpotArgs): InputPropertyErrorDetails[] {
  const out: InputPropertyErrorDetails[] = [];
  const { priority, maxPrice, terminateNotification, drainSeconds } = args;
  if (known(priority) && !(Object.values(Priority) as unknown[]).includes(priority)) {
    out.push(problem("priority", `must be ${enumChoice("Priority", Priority)} (got ${show(priority)})`));
  }
  const spot = priority === Priority.Spot;
  const regular = priority === undefined || priority === Priority.Regular;
  if (known(maxPrice) && !validMaxPrice(maxPrice)) {
    out.push(
      problem(
        "maxPrice",
        `must be -1 (pay up to the on-demand price) or a price per VM hour in US dollars above 0 with at most ${MAX_PRICE_DECIMALS} decimals, e.g. 0.05 (got ${show(maxPrice)})`,
      ),
    );
  } else if (known(maxPrice) && regular) {
    out.push(
      problem(
        "maxPrice",
        'applies to Spot VMs only, and Azure refuses it on others (MaxPriceIsSupportedOnlyForAzureSpotVirtualMachines): set priority to "Spot", or remove maxPrice',
      ),
    );
  }
  let noticeSeconds: number | undefined;
  if (known(terminateNotification)) {
    const seconds = typeof terminateNotification === "string" ? isoDurationSeconds(terminateNotification) : undefined;
    if (
      seconds === undefined ||
      seconds < MIN_TERMINATE_NOTIFICATION_SECONDS ||
      seconds > MAX_TERMINATE_NOTIFICATION_SECONDS
    ) {
      out.push(
        problem(
          "terminateNotification",
          `must be an ISO 8601 duration from PT5M to PT15M, e.g. "PT10M" (got ${show(terminateNotification)})`,
        ),
      );
    } else if (spot) {
      out.push(
        problem(
          "terminateNotification",
          'cannot be set with priority "Spot": Azure says "Terminate notifications cannot be enabled on Spot instances"; remove it (an eviction gives its own notice of about 30 s; deleting a Spot VM gives none)',
        ),
      );
    } else noticeSeconds = seconds;
  }
  if (known(drainSeconds)) {
    const d = drainSeconds as number;
    const margin = `the watcher may see an event ${SCHEDULED_EVENTS_POLL_MS / 1000} s late and keeps ${DRAIN_SAFETY_MARGIN_MS / 1000} s for SIGKILL and the acknowledgement`;
    if (!(typeof d === "number" && Number.isInteger(d) && d >= 1 && d <= MAX_DRAIN_SECONDS)) {
      out.push(
        problem(
          "drainSeconds",
          `must be a whole number of seconds from 1 to ${MAX_DRAIN_SECONDS} (got ${show(drainSeconds)})`,
        ),
      );
    } else if (spot && d > SPOT_MAX_DRAIN_SECONDS) {
      out.push(
        problem(
          "drainSeconds",
          `must be at most ${SPOT_MAX_DRAIN_SECONDS} with priority "Spot": an eviction is announced ${PREEMPT_NOTICE_SECONDS} s ahead, ${margin} (got ${d})`,
        ),
      );
    } else if (noticeSeconds !== undefined && d > drainWithin(noticeSeconds)) {
      out.push(
        problem(
          "drainSeconds",
          `must be at most ${drainWithin(noticeSeconds)} with terminateNotification ${show(terminateNotification)}: ${margin} (got ${d}); lower drainSeconds or lengthen terminateNotification`,
        ),
      );
    }
  }
  return out;
}

/** The virtualMachineProfile fields for these choices; all unset for Regular without a notice, so existing stacks see no change. */
export function evictionProfile(o: { priority?: Priority; maxPrice?: number; terminateNotification?: string }) {
  const spot = o.priority === Priority.Spot;
  return {
    priority: spot ? Priority.Spot : undefined,
    evictionPolicy: spot ? SPOT_EVICTION_POLICY : undefined,
    billingProfile: spot ? { maxPrice: o.maxPrice ?? DEFAULT_MAX_PRICE } : undefined,
    scheduledEventsProfile: o.terminateNotification
      ? { terminateNotificationProfile: { enable: true, notBeforeTimeout: o.terminateNotification } }
      : undefined,
  };
}

/**
 * The profile for resolved values, after the same checks: validation before the constructor sees
 * plain values only, so Outputs that combine into what Azure refuses fail the deployment here.
 */
export function resolvedEvictionProfile(
  resourceName: string,
  values: { priority?: unknown; maxPrice?: unknown; terminateNotification?: unknown; drainSeconds?: unknown },
) {
  const found = spotProblems(values);
  if (found.length > 0) throw new WorkerScaleSetArgumentsError(resourceName, found);
  return evictionProfile(values as { priority?: Priority; maxPrice?: number; terminateNotification?: string });
}
