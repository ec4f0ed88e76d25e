import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Clock } from '../../lib/clock.js';
import { sha256 } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { MfaChallengeRow, Store, UserRow, WebauthnCredentialRow } from '../../store/ports/index.js';

export const CEREMONY_TTL_MS = 5 * 60_000;

export interface WebauthnConfig {
  rpId: string;
  rpName: string;
  /** origins a ceremony may come from: the issuer's and TESSERA_ALLOWED_ORIGINS */
  origins: string[];
}

export function webauthnConfig(issuer: string, allowedOrigins: string[]): WebauthnConfig {
  const u = new URL(issuer);
  return { rpId: u.hostname, rpName: 'Tessera', origins: [...new Set([u.origin, ...allowedOrigins])] };
}

export type PasskeyCheck =
  | { ok: true; credential: WebauthnCredentialRow; userVerified: boolean; deviceType: 'singleDevice' | 'multiDevice' }
  | { ok: false; reason: string; userId: string | null };

type CeremonyKind = 'webauthn_register' | 'webauthn_login';

/** The challenge the browser signed, read from clientDataJSON; null for anything not shaped like a response. */
export function responseChallenge(response: unknown): string | null {
  if (typeof response !== 'object' || response === null) return null;
  const inner = (response as { response?: unknown }).response;
  if (typeof inner !== 'object' || inner === null) return null;
  const cdj = (inner as { clientDataJSON?: unknown }).clientDataJSON;
  if (typeof cdj !== 'string' || cdj.length > 4096) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cdj, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(parsed.challenge) ? parsed.challenge : null;
  } catch {
    return null;
  }
}

/** RFC 8176: a key that may leave its device (a synced passkey) is software-held; a device-bound one, hardware. */
export function keyAmr(deviceType: 'singleDevice' | 'multiDevice'): 'hwk' | 'swk' {
  return deviceType === 'singleDevice' ? 'hwk' : 'swk';
}

/**
 * WebAuthn (passkeys and security keys) with @simplewebauthn/server. Every ceremony's challenge is stored
 * as a single-use row keyed by the challenge's hash, so the browser needs no extra handle and a signed
 * response can be redeemed once only. A signature counter that does not move forward means a cloned
 * authenticator: the sign-in is refused.
 */
export class WebauthnService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly cfg: WebauthnConfig,
  ) {}

  list(userId: string): Promise<WebauthnCredentialRow[]> {
    return this.store.listWebauthnCredentials(userId);
  }

  remove(userId: string, id: string): Promise<boolean> {
    return this.store.deleteWebauthnCredential(userId, id);
  }

  async registrationOptions(user: UserRow): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.list(user.id);
    const options = await generateRegistrationOptions({
      rpName: this.cfg.rpName,
      rpID: this.cfg.rpId,
      userName: user.email,
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      // The same authenticator registered twice would only look like a second factor.
      excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransportFuture[] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    await this.saveCeremony('webauthn_register', options.challenge, user.id, {});
    return options;
  }

  async register(user: UserRow, response: unknown, name: string): Promise<WebauthnCredentialRow> {
    const ceremony = await this.takeCeremony('webauthn_register', response);
    // A challenge issued to another account cannot register a key on this one.
    if (!ceremony || ceremony.userId !== user.id) throw new TesseraError('invalid_request', { detail: 'The passkey registration expired or is invalid; start again.', reason: 'unknown registration ceremony' });
    let info;
    try {
      const v = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        expectedChallenge: ceremony.challenge!,
        expectedOrigin: this.cfg.origins,
        expectedRPID: this.cfg.rpId,
        requireUserVerification: false,
      });
      if (!v.verified) throw new Error('not verified');
      info = v.registrationInfo;
    } catch (err) {
      throw new TesseraError('invalid_request', { detail: 'The passkey could not be verified.', reason: `registration: ${err instanceof Error ? err.message : 'failed'}` });
    }
    if (await this.store.getWebauthnCredential(info.credential.id)) throw new TesseraError('conflict', { detail: 'This passkey is already registered.' });
    const row: WebauthnCredentialRow = {
      id: info.credential.id,
      userId: user.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: info.credential.transports ?? [],
      name,
      createdAt: this.clock.now(),
      lastUsedAt: null,
    };
    await this.store.insertWebauthnCredential(row);
    return row;
  }

  /**
   * Options for a sign-in. With `userId` (second factor) only that user's credentials are allowed; without it
   * (passkey-only) the authenticator offers its discoverable credentials and must verify the user.
   */
  async authenticationOptions(userId: string | null, context: Record<string, unknown>): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const creds = userId ? await this.list(userId) : [];
    const options = await generateAuthenticationOptions({
      rpID: this.cfg.rpId,
      allowCredentials: creds.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransportFuture[] })),
      userVerification: userId ? 'preferred' : 'required',
    });
    await this.saveCeremony('webauthn_login', options.challenge, userId, context);
    return options;
  }

  /** Verifies a sign-in response against its (consumed) ceremony. `expect` decides which ceremony it must be. */
  async authenticate(response: unknown, expect: { userId: string | null; context?: (c: Record<string, unknown>) => boolean }): Promise<PasskeyCheck> {
    const ceremony = await this.takeCeremony('webauthn_login', response);
    if (!ceremony || ceremony.userId !== expect.userId || (expect.context && !expect.context(ceremony.context))) {
      return { ok: false, reason: 'unknown_ceremony', userId: expect.userId };
    }
    const credId = (response as { id?: unknown }).id;
    const credential = typeof credId === 'string' && credId.length <= 1024 ? await this.store.getWebauthnCredential(credId) : undefined;
    if (!credential) return { ok: false, reason: 'unknown_credential', userId: expect.userId };
    // Second factor: the key must belong to the user who passed the password step.
    if (expect.userId !== null && credential.userId !== expect.userId) return { ok: false, reason: 'foreign_credential', userId: expect.userId };
    const passkeyOnly = expect.userId === null;
    if (passkeyOnly && !this.userHandleMatches(response, credential.userId)) return { ok: false, reason: 'user_handle_mismatch', userId: credential.userId };
    let info;
    try {
      const v = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: ceremony.challenge!,
        expectedOrigin: this.cfg.origins,
        expectedRPID: this.cfg.rpId,
        credential: { id: credential.id, publicKey: Buffer.from(credential.publicKey, 'base64url'), counter: credential.counter, transports: credential.transports as AuthenticatorTransportFuture[] },
        // Passkey-only: the key is the whole sign-in, so it must have verified the person (PIN, biometrics).
        requireUserVerification: passkeyOnly,
      });
      if (!v.verified) return { ok: false, reason: 'signature_invalid', userId: credential.userId };
      info = v.authenticationInfo;
    } catch (err) {
      const msg = err instanceof Error ? err.message : '';
      return { ok: false, reason: /counter/i.test(msg) ? 'cloned_authenticator' : 'verification_failed', userId: credential.userId };
    }
    // The guarded update is what holds under concurrency: two responses with the same counter, one wins.
    if (!(await this.store.updateWebauthnCounter(credential.id, info.newCounter, this.clock.now()))) {
      return { ok: false, reason: 'cloned_authenticator', userId: credential.userId };
    }
    return { ok: true, credential, userVerified: info.userVerified, deviceType: info.credentialDeviceType };
  }

  private userHandleMatches(response: unknown, userId: string): boolean {
    const inner = (response as { response?: { userHandle?: unknown } }).response;
    const handle = inner?.userHandle;
    if (handle === undefined || handle === null || handle === '') return true;
    return typeof handle === 'string' && Buffer.from(handle, 'base64url').toString('utf8') === userId;
  }

  private ceremonyId(challenge: string): string {
    return `wa_${sha256(`webauthn-ceremony:${challenge}`)}`;
  }

  private async saveCeremony(kind: CeremonyKind, challenge: string, userId: string | null, context: Record<string, unknown>): Promise<void> {
    const now = this.clock.now();
    await this.store.insertMfaChallenge({
      id: this.ceremonyId(challenge),
      userId,
      secretHash: sha256(`webauthn:${challenge}`),
      kind,
      challenge,
      failures: 0,
      createdAt: now,
      expiresAt: now + CEREMONY_TTL_MS,
      usedAt: null,
      context,
    });
  }

  /** consume-once: a signed response replayed (or raced) finds its ceremony gone */
  private async takeCeremony(kind: CeremonyKind, response: unknown): Promise<MfaChallengeRow | undefined> {
    const challenge = responseChallenge(response);
    if (!challenge) return undefined;
    const row = await this.store.consumeMfaChallenge(this.ceremonyId(challenge), this.clock.now());
    if (!row || row.kind !== kind || row.challenge !== challenge) return undefined;
    return row;
  }
}
