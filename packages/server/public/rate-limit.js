/**
 * A 429 `rate_limited` answer in words for every page form: how long to wait, from its Retry-After
 * header (@tessera/browser's `retryAfter`), never the bare code.
 */

/** A 429's wait in words, from Retry-After seconds: "Too many attempts. Try again in 2 minutes." */
export function waitMessage(seconds) {
  if (!Number.isFinite(seconds)) return 'Too many attempts. Try again in a few minutes.';
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  let wait;
  if (seconds < 60) wait = plural(Math.max(1, Math.ceil(seconds)), 'second');
  else if (seconds < 3600) wait = plural(Math.ceil(seconds / 60), 'minute');
  else wait = plural(Math.ceil(seconds / 3600), 'hour');
  return `Too many attempts. Try again in ${wait}.`;
}
