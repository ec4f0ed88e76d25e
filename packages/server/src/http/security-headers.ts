/**
 * The security headers every answer carries: helmet's defaults (as @fastify/helmet 13 / helmet 8 set them)
 * without Content-Security-Policy, which each page sets for itself (pages/layout.ts), and without
 * Cross-Origin-Embedder-Policy, which would block the pages' own cross-origin assets. Fixed values, set
 * from one frozen object: @fastify/helmet rebuilt helmet's middleware on every request to produce the same
 * eleven headers. test/http/security-headers.test.ts compares them with @fastify/helmet's output.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});
