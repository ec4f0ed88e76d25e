import { currentKey, dropKey, newKey } from './keystore.js';
import { htuOf, signProof } from './proof.js';
import type { ApiResponse } from './types.js';

/** The readable cookie with the `ath` of a key-bound session's access cookie (which script cannot read). */
export const ATH_COOKIES = ['__Host-tessera_dpop', 'tessera_dpop'];
const NONCE_META = 'meta[name="tessera-dpop-nonce"]';

function athCookie(): string | undefined {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (ATH_COOKIES.includes(part.slice(0, eq).trim())) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

type NonceMessage = { type: 'nonce'; origin: string; nonce: string };

/**
 * DPoP for the cookie session (RFC 9449): a proof on every same-origin request, signed with this profile's
 * non-extractable key, carrying the server's latest nonce (§8) and the access cookie's `ath`. Where the
 * browser has no WebCrypto in a secure context, requests go without proofs and the session is unbound.
 */
export class Prover {
  private readonly nonces = new Map<string, string>();
  /** server clock minus ours (ms), from the page's <meta>: proofs carry the server's time */
  private offsetMs = 0;
  private readonly channel: BroadcastChannel | null;

  constructor(channelName = 'tessera-dpop') {
    const meta = typeof document !== 'undefined' ? document.querySelector<HTMLMetaElement>(NONCE_META) : null;
    if (meta) this.fromMeta(meta);
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(channelName) : null;
    // A nonce one tab learnt is good for all: tabs that stay idle do not start with a stale one.
    this.channel?.addEventListener('message', (e: MessageEvent<NonceMessage | null>) => {
      if (e.data?.type === 'nonce' && typeof e.data.nonce === 'string') this.nonces.set(e.data.origin, e.data.nonce);
    });
  }

  /** A page's `<meta name="tessera-dpop-nonce" content=… data-now=…>` (also of a page fetched in place). */
  fromMeta(meta: Element): void {
    const nonce = meta.getAttribute('content');
    const now = Number(meta.getAttribute('data-now'));
    if (nonce) this.nonces.set(location.origin, nonce);
    if (Number.isFinite(now) && now > 0) this.offsetMs = now - Date.now();
  }

  /** The header source: `DPoP: <proof>` for same-origin requests, when this profile has a key. */
  readonly headers = async ({ method, url }: { method: string; url: string }): Promise<Record<string, string>> => {
    const target = new URL(url, location.href);
    if (target.origin !== location.origin) return {};
    const key = await currentKey();
    if (key === undefined) return {};
    const proof = await signProof(key, {
      htm: method.toUpperCase(),
      htu: htuOf(target.href),
      iat: Math.floor((Date.now() + this.offsetMs) / 1000),
      ath: athCookie(),
      nonce: this.nonces.get(target.origin),
    });
    return { dpop: proof };
  };

  /** Every response: keep the nonce it hands out (and tell the other tabs). */
  readonly observe = (res: Response): void => {
    const nonce = res.headers.get('dpop-nonce');
    if (!nonce) return;
    const origin = new URL(res.url || location.href, location.href).origin;
    if (this.nonces.get(origin) === nonce) return;
    this.nonces.set(origin, nonce);
    this.channel?.postMessage({ type: 'nonce', origin, nonce } satisfies NonceMessage);
  };

  /** Whether a refused request is worth one more try with a new proof (a new nonce, or a refreshed `ath`). */
  static retryable(res: ApiResponse): boolean {
    const code = typeof res.body === 'object' && res.body !== null ? (res.body as { code?: unknown }).code : undefined;
    return res.status === 401 && (code === 'use_dpop_nonce' || code === 'invalid_dpop_proof');
  }

  /** A sign-in starts with a new key; the previous session's key is never used again. */
  async newSession(): Promise<void> {
    await newKey();
  }

  /** The session ended: its key goes with it. */
  async ended(): Promise<void> {
    await dropKey();
  }
}
