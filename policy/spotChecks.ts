/**
 * The Spot and terminate-notification rule's check: what Azure refuses on a scale set's model, so a
 * preview stops before `pulumi up` meets the error. Self-contained, as the whole pack: the same
 * limits and formats as the component's validation (components/spot.ts, components/azureFormats.ts),
 * through generated/.
 * https://learn.microsoft.com/azure/virtual-machines/error-codes-spot
 * https://learn.microsoft.com/azure/virtual-machine-scale-sets/virtual-machine-scale-sets-terminate-notification
 */
import { isoDurationSeconds, validMaxPrice } from "./generated/azureFormats";
import {
  MAX_PRICE_DECIMALS,
  MAX_TERMINATE_NOTIFICATION_SECONDS,
  MIN_TERMINATE_NOTIFICATION_SECONDS,
} from "./generated/constants";
import { UNKNOWN, at, rawProps } from "./unknowns";

/** "Low" is the retired name of Spot priority; Azure treats both alike. */
export function isSpotPriority(priority: unknown): boolean {
  return priority === "Spot" || priority === "Low";
}

export function checkSpotSettings(props: unknown): string[] {
  const profile = at(rawProps(props), "virtualMachineProfile");
  const priority = at(profile, "priority");
  if (profile === undefined || profile === UNKNOWN || priority === UNKNOWN) return [];
  const spot = isSpotPriority(priority);
  const which = `priority is ${priority === undefined ? "unset (Regular)" : `"${priority}"`}`;
  const reasons: string[] = [];
  const notice = at(profile, "scheduledEventsProfile", "terminateNotificationProfile");
  const timeout = at(notice, "notBeforeTimeout");
  if (at(notice, "enable") === true) {
    if (spot) {
      reasons.push(
        `${which} and terminateNotificationProfile is enabled: "Terminate notifications cannot be enabled on Spot instances"; remove scheduledEventsProfile.terminateNotificationProfile`,
      );
    }
    const seconds = typeof timeout === "string" ? isoDurationSeconds(timeout) : undefined;
    if (
      timeout !== UNKNOWN &&
      timeout !== undefined &&
      (seconds === undefined ||
        seconds < MIN_TERMINATE_NOTIFICATION_SECONDS ||
        seconds > MAX_TERMINATE_NOTIFICATION_SECONDS)
    ) {
      reasons.push(
        `terminateNotificationProfile.notBeforeTimeout is ${JSON.stringify(timeout)}: Azure takes an ISO 8601 duration from PT5M to PT15M`,
      );
    }
  }
  const eviction = at(profile, "evictionPolicy");
  if (!spot && eviction !== undefined && eviction !== UNKNOWN) {
    reasons.push(
      `${which} and evictionPolicy is set: Azure refuses it (EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines); remove evictionPolicy, or set priority: "Spot"`,
    );
  }
  const maxPrice = at(profile, "billingProfile", "maxPrice");
  if (maxPrice !== undefined && maxPrice !== UNKNOWN) {
    if (!spot) {
      reasons.push(
        `${which} and billingProfile.maxPrice is set: Azure refuses it (MaxPriceIsSupportedOnlyForAzureSpotVirtualMachines); remove billingProfile, or set priority: "Spot"`,
      );
    } else if (!validMaxPrice(maxPrice)) {
      reasons.push(
        `billingProfile.maxPrice is ${JSON.stringify(maxPrice)}: Azure takes -1 (up to the on-demand price) or a price above 0 with at most ${MAX_PRICE_DECIMALS} decimals (MaxPriceValueInvalid)`,
      );
    }
  }
  return reasons;
}
