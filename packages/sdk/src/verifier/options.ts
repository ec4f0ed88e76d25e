import { DEFAULT_DPOP_ALGORITHMS } from '../dpop.js';
import type { CredentialScheme } from '../edge/credentials.js';
import type { GeoCheckOptions } from '../geo.js';
import { compileJwtOptions } from '../jwt.js';
import type { AccessTokenClaims, Ed25519Backend } from '../jwt.js';

export interface VerifierOptions {
  issuer: string;
  /**
   * Default: the issuer, which every resource server of a deployment then shares. Give each API its own
   * audience URI (a client created with `--audience`, requested as RFC 8707 `resource`) and set it here: a
   * token issued for one API is then refused at every other.
   */
  audience?: string | string[];
  /** Default ['EdDSA', 'ES256']. */
  algorithms?: string[];
  /** Resource-server client credentials (`tessera clients create`) for the revocation feed. */
  clientId?: string;
  clientSecret?: string;
  /** Fail closed when the feed has been silent this long. Default 30. */
  maxStalenessSec?: number;
  /** Verified tokens kept in memory. Default 10 000. */
  cacheSize?: number;
  fetch?: typeof fetch;
  clockToleranceSec?: number;
  /** Default 'sse' with client credentials, 'off' without. */
  revocationFeed?: 'sse' | 'poll' | 'off';
  /** Default ['ES256', 'EdDSA']. */
  dpopAlgorithms?: string[];
  /** Default 60. */
  dpopMaxAgeSec?: number;
  /**
   * DPoP proof ids (`jti`) the in-process replay cache holds, default 100 000. When it is full of proofs
   * still inside their acceptance window, new proofs are refused until some expire: forgetting a live one
   * would let a captured proof be replayed. Size it above your DPoP requests per `dpopMaxAgeSec` + 5 s.
   */
  dpopReplayCacheSize?: number;
  /** A shared jti replay check (e.g. Redis SET NX); default: the in-process cache. */
  isDpopReplay?: (jti: string, ttlMs: number) => Promise<boolean>;
  /** Feed and key-refresh failures (the verifier keeps retrying by itself). */
  onError?: (err: Error) => void;
  now?: () => number;
  /**
   * Optional local impossible-travel check: with your IP lookup, a token used far from where it was issued
   * is refused and reported to Tessera (`POST /v1/risk/reports`, with the client credentials).
   */
  geo?: GeoCheckOptions;
  /**
   * Who checks Ed25519 (EdDSA) signatures: 'auto' (default) uses libsodium when the optional `sodium-native`
   * package loads, about 1.6 times faster than node:crypto, and node:crypto otherwise.
   */
  ed25519Backend?: Ed25519Backend;
}

export interface VerifyContext {
  /** The `DPoP` request header. */
  dpopProof?: string;
  /** HTTP method and absolute URL of the request, for the DPoP proof's htm/htu. */
  method?: string;
  url?: string;
  ip?: string;
  /** The request's User-Agent, sent along with a geo report. */
  userAgent?: string;
  /**
   * How the token was presented: a DPoP-bound token as Bearer is refused; as the cookie (a first-party
   * browser session) it needs a proof from its key, as with the DPoP scheme.
   */
  scheme?: CredentialScheme;
  /** The server-nonce rule for this request's proof (RFC 9449 §9); see HttpAuthOptions.dpopNonce. */
  checkNonce?: (nonce: unknown) => boolean;
}

export interface VerifierStats {
  healthy: boolean;
  cache: { size: number; hits: number; misses: number };
  revocations: { sids: number; subs: number };
  jwks: { keys: number; fetches: number; lastFetchAt: number | null };
  feed: { cursor: number; connected: boolean; connects: number; events: number; lastActivityAt: number | null } | null;
}

export interface TesseraVerifier {
  ready(): Promise<void>;
  verify(token: string, ctx?: VerifyContext): Promise<AccessTokenClaims>;
  isHealthy(): boolean;
  close(): Promise<void>;
  stats(): VerifierStats;
}

/** The options after the checks made at creation, with every default filled in. */
export interface CompiledVerifierOptions {
  issuer: string;
  now: () => number;
  fetch: typeof fetch;
  algorithms: string[];
  feed: { mode: 'sse' | 'poll'; clientId: string; clientSecret: string; maxStalenessMs: number } | undefined;
  credentials: { clientId: string; clientSecret: string } | undefined;
  jwt: ReturnType<typeof compileJwtOptions>;
  cacheSize: number;
  dpop: { algorithms: readonly string[]; maxAgeSec: number; replayCacheSize: number };
}

function positiveInteger(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`createVerifier: ${name} must be a positive integer`);
  return v;
}

/** Misuse is a TypeError at creation, never a surprise at the first request. */
export function compileVerifierOptions(opts: VerifierOptions): CompiledVerifierOptions {
  if (typeof opts.issuer !== 'string' || opts.issuer.length === 0) throw new TypeError('createVerifier: issuer is required');
  const now = opts.now ?? Date.now;
  const algorithms = [...(opts.algorithms ?? ['EdDSA', 'ES256'])];
  const credentials = opts.clientId && opts.clientSecret ? { clientId: opts.clientId, clientSecret: opts.clientSecret } : undefined;
  const mode = opts.revocationFeed ?? (credentials ? 'sse' : 'off');
  if (mode !== 'off' && !credentials) throw new TypeError('createVerifier: the revocation feed needs clientId and clientSecret');
  return {
    issuer: opts.issuer,
    now,
    fetch: opts.fetch ?? globalThis.fetch,
    algorithms,
    credentials,
    feed: mode === 'off' || !credentials ? undefined : { mode, ...credentials, maxStalenessMs: (opts.maxStalenessSec ?? 30) * 1000 },
    jwt: compileJwtOptions({
      issuer: opts.issuer,
      audience: opts.audience ?? opts.issuer,
      algorithms,
      ...(opts.clockToleranceSec === undefined ? {} : { clockToleranceSec: opts.clockToleranceSec }),
      ...(opts.ed25519Backend === undefined ? {} : { ed25519Backend: opts.ed25519Backend }),
      now,
    }),
    cacheSize: opts.cacheSize ?? 10_000,
    dpop: {
      algorithms: [...(opts.dpopAlgorithms ?? DEFAULT_DPOP_ALGORITHMS)],
      maxAgeSec: opts.dpopMaxAgeSec ?? 60,
      replayCacheSize: positiveInteger(opts.dpopReplayCacheSize, 100_000, 'dpopReplayCacheSize'),
    },
  };
}
