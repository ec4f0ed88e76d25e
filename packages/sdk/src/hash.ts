/**
 * 32-bit FNV-1a over the UTF-16 code units s[start, end): a few integer operations per character, no
 * allocation. Not for anything an attacker could exploit by choosing colliding inputs: the SDK uses it only
 * on values that are random (signatures) or come from the issuer (revoked sids), where a collision costs time,
 * never a wrong answer.
 */
export function fnv1a(s: string, start = 0, end = s.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** Spreads every input bit over the result (FNV-1a's low bits depend on few of them). */
export function mix32(h: number): number {
  const m = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return m ^ (m >>> 12);
}
