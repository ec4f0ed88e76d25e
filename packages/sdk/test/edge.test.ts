import { describe, expect, it } from 'vitest';
import {
  TOKEN_ERRORS,
  cookieNamesFor,
  credentialHeaders,
  credentialHeadersOf,
  edgeProblem,
  extractCredentials,
  parseAuthorization,
  wwwAuthenticate,
} from '../src/edge/index.js';
import { TesseraTokenError } from '../src/errors.js';

const policy = { cookieName: '__Host-tessera_at', dpop: true };
const reasonOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof TesseraTokenError ? `${err.code}/${err.reason}` : String(err);
  }
};

describe('Authorization header (RFC 6750 §2.1, RFC 9449 §7.1: scheme 1*SP token68)', () => {
  it('one or more spaces, any case of the scheme', () => {
    expect(parseAuthorization('Bearer abc.def-_~+/==')).toEqual({ scheme: 'bearer', token: 'abc.def-_~+/==' });
    expect(parseAuthorization('bearer   abc')).toEqual({ scheme: 'bearer', token: 'abc' });
    expect(parseAuthorization('DPOP abc')).toEqual({ scheme: 'dpop', token: 'abc' });
  });

  it('anything else is not a credential', () => {
    for (const v of ['Bearer', 'Bearer ', 'Bearer\tabc', ' Bearer abc', 'Bearer abc ', 'Basic YTpi', 'Bearer a b', 'Bearer a,b', 'Bearerabc']) {
      expect(parseAuthorization(v), v).toBeNull();
    }
  });
});

describe('extractCredentials', () => {
  it('reads the header or the cookie, with the DPoP proof', () => {
    expect(extractCredentials(credentialHeaders(['Authorization', 'DPoP t1', 'DPoP', 'p']), policy)).toEqual({ token: 't1', scheme: 'dpop', dpopProof: 'p' });
    expect(extractCredentials(credentialHeaders(['Cookie', 'a=1; __Host-tessera_at="t2"']), policy)).toEqual({ token: 't2', scheme: 'cookie' });
    expect(extractCredentials(credentialHeaders(['Cookie', 'a=1']), policy)).toBeNull();
    expect(extractCredentials(credentialHeadersOf({ authorization: 'Bearer t3', host: 'x' }), policy)).toEqual({ token: 't3', scheme: 'bearer' });
  });

  it('refuses what could be read two ways', () => {
    const cases: Array<[string[], string]> = [
      [['authorization', 'Bearer a', 'authorization', 'Bearer b'], 'invalid_token/authorization_repeated'],
      [['authorization', 'Bearer a', 'cookie', '__Host-tessera_at=b'], 'invalid_token/credentials_ambiguous'],
      [['cookie', '__Host-tessera_at=a', 'cookie', '__Host-tessera_at=b'], 'invalid_token/cookie_ambiguous'],
      [['cookie', '__Host-tessera_at=a; __Host-tessera_at=b'], 'invalid_token/cookie_ambiguous'],
      [['authorization', 'DPoP a', 'dpop', 'p1', 'dpop', 'p2'], 'invalid_dpop_proof/dpop_header_repeated'],
      [['authorization', 'Basic YTpi'], 'invalid_token/authorization_malformed'],
      [['cookie', '__Host-tessera_at='], 'invalid_token/cookie_empty'],
    ];
    for (const [raw, expected] of cases) expect(reasonOf(() => extractCredentials(credentialHeaders(raw), policy)), raw.join(' ')).toBe(expected);
    expect(reasonOf(() => extractCredentials(credentialHeaders(['authorization', 'DPoP a']), { ...policy, dpop: false }))).toBe('invalid_token/dpop_not_accepted');
  });

  it('uses the server\'s cookie names, secure and for plain-http development', () => {
    expect(cookieNamesFor(true)).toEqual({ access: '__Host-tessera_at', csrf: '__Host-tessera_csrf' });
    expect(cookieNamesFor(false)).toEqual({ access: 'tessera_at', csrf: 'tessera_csrf' });
  });
});

describe('problems and challenges', () => {
  const o = { dpop: true, dpopAlgorithms: ['ES256', 'EdDSA'] };
  it('answers in the scheme the credential came in', () => {
    expect(wwwAuthenticate('credentials', o)).toBe('Bearer, DPoP algs="ES256 EdDSA"');
    expect(wwwAuthenticate('invalid_token', { ...o, scheme: 'cookie' })).toBe('Bearer error="invalid_token"');
    expect(wwwAuthenticate('invalid_token', { ...o, scheme: 'dpop' })).toBe('DPoP error="invalid_token", algs="ES256 EdDSA"');
    expect(wwwAuthenticate('insufficient_scope', { ...o, scheme: 'bearer', scopes: ['a', 'b'] })).toBe('Bearer error="insufficient_scope", scope="a b"');
  });

  it('every error of the table becomes a problem document; every 401 has a challenge', () => {
    for (const [code, e] of Object.entries(TOKEN_ERRORS)) {
      const p = edgeProblem(code as keyof typeof TOKEN_ERRORS, o);
      expect(p.body).toEqual({ type: `https://tessera.dev/problems/${code}`, title: e.title, status: e.status, code });
      expect(p.headers['cache-control']).toBe('no-store');
      if (e.status === 401) expect(p.headers['www-authenticate'], code).toBeDefined();
    }
    expect(edgeProblem('revocation_feed_stale', o).headers['retry-after']).toBe('5');
  });
});
