// Generated from components/azureFormats.ts by `npm run gen:policy` (scripts/gen-policy-constants.ts) — do not edit.
// The pack is published alone, so it carries this copy; a test fails when it is out of date.

/**
 * The value formats Azure checks on a scale set's model, read by the component's validation and by the
 * policy pack alike. It imports only components/defaults.ts: `npm run gen:policy` copies this file into
 * policy/generated/azureFormats.ts (the pack is published alone) with that import pointed at the
 * generated constants, and a test fails when the copy is stale.
 */
import { DEFAULT_MAX_PRICE, MAX_PRICE_DECIMALS } from "./constants";

/** Seconds of an ISO 8601 duration of hours, minutes and seconds ("PT5M", "PT7M30S", "PT1H"), or undefined. */
export function isoDurationSeconds(text: string): number | undefined {
  const m = /^PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(text);
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) : undefined;
}

/** Minutes of an ISO 8601 duration of hours and minutes only ("PT30M", "PT1H", "PT1H30M"), or undefined for any other form. */
export function isoDurationMinutes(text: string): number | undefined {
  const seconds = text.endsWith("S") ? undefined : isoDurationSeconds(text);
  return seconds === undefined ? undefined : seconds / 60;
}

/** What Azure accepts as a max price: -1, or more than 0 with at most five decimals (MaxPriceValueInvalid otherwise). */
export function validMaxPrice(value: unknown): boolean {
  if (value === DEFAULT_MAX_PRICE) return true;
  const decimals = new RegExp(`^\\d+(\\.\\d{1,${MAX_PRICE_DECIMALS}})?$`);
  return typeof value === "number" && value > 0 && decimals.test(String(value));
}
