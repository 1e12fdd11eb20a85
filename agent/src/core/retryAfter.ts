/**
 * How long a response asks us to wait before the next call, or undefined.
 * - `retry-after-ms` and `x-ms-retry-after-ms`: milliseconds (Azure's extension headers,
 *   https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling).
 * - `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3). A date is read against the
 *   response's own `Date` header when there is one, so neither clock skew nor a virtual clock matters.
 * When several are present the longest wins: the agent never calls before any of them has elapsed.
 * `headers` names are lower case.
 */
export function retryAfterMs(headers: Record<string, string>, wallNowMs: number): number | undefined {
  let wait: number | undefined;
  const take = (ms: number) => {
    if (isFinite(ms) && ms >= 0 && (wait === undefined || ms > wait)) wait = ms;
  };
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const v = headers[name];
    if (v !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(v)) take(parseFloat(v));
  }
  const ra = headers["retry-after"];
  if (ra !== undefined) {
    if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) take(parseFloat(ra) * 1000);
    else {
      const at = Date.parse(ra);
      if (!isNaN(at)) {
        const ref = headers["date"] !== undefined ? Date.parse(headers["date"]) : NaN;
        take(Math.max(0, at - (isNaN(ref) ? wallNowMs : ref)));
      }
    }
  }
  return wait;
}
