import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { TesseraError } from '../errors.js';
import type { EventLog } from '../events.js';
import type { UserRow, WebauthnCredentialRow } from '../../store/ports/index.js';
import type { MfaOptions } from './login.js';
import type { PhoneService } from './phone.js';
import type { RecoveryCodeService } from './recovery.js';
import type { TotpEnrolment, TotpService } from './totp.js';
import type { WebauthnService } from './webauthn.js';

/**
 * Squatting: a factor on an address nobody has proven to own would outlive the owner's password reset as a
 * way in, so no unverified account (legacy ones included) enrols one, whatever TESSERA_REQUIRE_VERIFIED_EMAIL says.
 */
function requireVerified(user: UserRow): void {
  if (user.emailVerifiedAt === null) throw new TesseraError('email_unverified', { detail: 'Confirm your email address before setting up a second factor.', reason: 'factor enrolment while unverified' });
}

/** who asked, for the audit log */
export interface Actor {
  ip: string;
  sessionId: string;
}

/** What a signed-in user has set up (the account page and `GET /v1/me`). */
export interface MfaSummary {
  totp: boolean;
  passkeys: WebauthnCredentialRow[];
  /** the confirmed phone's masked form */
  sms: string | null;
  recoveryCodesLeft: number;
}

/**
 * Enrolment and removal of second factors by a signed-in user (the HTTP layer enforces the recent sign-in).
 * Recovery codes exist only while a factor does: they are issued with the first one and dropped with the last.
 */
export class MfaManager {
  constructor(
    private readonly events: EventLog,
    private readonly totp: TotpService,
    private readonly recovery: RecoveryCodeService,
    private readonly webauthn: WebauthnService,
    private readonly phone: PhoneService,
    /** shared with MfaLogin, so one switch turns SMS on or off everywhere */
    private readonly options: MfaOptions,
  ) {}

  async summary(user: UserRow): Promise<MfaSummary> {
    return {
      totp: await this.totp.isEnrolled(user.id),
      passkeys: await this.webauthn.list(user.id),
      sms: await this.phone.maskedPhone(user.id),
      recoveryCodesLeft: await this.recovery.count(user.id),
    };
  }

  startTotp(user: UserRow): Promise<TotpEnrolment> {
    requireVerified(user);
    return this.totp.enrol(user);
  }

  async confirmTotp(user: UserRow, code: string, by: Actor): Promise<string[]> {
    requireVerified(user);
    const r = await this.totp.confirm(user, code);
    if (!r.ok) {
      if (r.reason === 'not_enrolled') throw new TesseraError('conflict', { detail: 'Start the authenticator app set-up first (POST /v1/mfa/totp).' });
      await this.events.record({ type: 'mfa_failed', userId: user.id, sessionId: by.sessionId, ip: by.ip, data: { method: 'totp', reason: r.reason, step: 'enrolment' } });
      throw new TesseraError('invalid_code', { reason: `totp enrolment: ${r.reason}` });
    }
    const codes = await this.recovery.regenerate(user.id);
    await this.events.record({ type: 'mfa_enrolled', userId: user.id, sessionId: by.sessionId, ip: by.ip, data: { method: 'totp' } });
    return codes;
  }

  async removeTotp(user: UserRow, by: Actor): Promise<void> {
    if (!(await this.totp.remove(user.id))) throw new TesseraError('not_found');
    await this.events.record({ type: 'mfa_removed', userId: user.id, sessionId: by.sessionId, ip: by.ip, data: { method: 'totp' } });
    await this.dropCodesIfNoFactor(user.id);
  }

  passkeyOptions(user: UserRow): Promise<PublicKeyCredentialCreationOptionsJSON> {
    requireVerified(user);
    return this.webauthn.registrationOptions(user);
  }

  /** Registers a passkey; the first factor of an account also gets the recovery codes (else a lost key locks it out). */
  async addPasskey(user: UserRow, response: unknown, name: string, by: Actor): Promise<{ credential: WebauthnCredentialRow; recoveryCodes: string[] | null }> {
    requireVerified(user);
    const credential = await this.webauthn.register(user, response, name);
    await this.events.record({ type: 'passkey_added', userId: user.id, sessionId: by.sessionId, ip: by.ip, data: { credential_id: credential.id, name } });
    const recoveryCodes = (await this.recovery.count(user.id)) === 0 ? await this.recovery.regenerate(user.id) : null;
    return { credential, recoveryCodes };
  }

  listPasskeys(user: UserRow): Promise<WebauthnCredentialRow[]> {
    return this.webauthn.list(user.id);
  }

  async removePasskey(user: UserRow, id: string, by: Actor): Promise<void> {
    // Another user's credential id answers like an unknown one.
    if (!(await this.webauthn.remove(user.id, id))) throw new TesseraError('not_found');
    await this.events.record({ type: 'passkey_removed', userId: user.id, sessionId: by.sessionId, ip: by.ip, data: { credential_id: id } });
    await this.dropCodesIfNoFactor(user.id);
  }

  /** Texts a code to the number; answered with its masked form. */
  startSms(user: UserRow, phone: string): Promise<{ phoneMasked: string; expiresInSec: number }> {
    requireVerified(user);
    this.requireSms();
    return this.phone.startEnrolment(user, phone);
  }

  /** Confirms the phone; the first factor of an account also gets the recovery codes. */
  async confirmSms(user: UserRow, code: string, by: Actor): Promise<{ phoneMasked: string; recoveryCodes: string[] | null }> {
    requireVerified(user);
    this.requireSms();
    const r = await this.phone.confirm(user, code);
    if (!r.ok) {
      if (r.reason === 'not_started') throw new TesseraError('conflict', { detail: 'Start the phone set-up first (POST /v1/mfa/sms).' });
      await this.events.record({ type: 'mfa_failed', userId: user.id, sessionId: by.sessionId, ip: by.ip, data: { method: 'sms', reason: r.reason, step: 'enrolment' } });
      throw new TesseraError('invalid_code', {
        ...(r.reason === 'too_many_attempts' ? { detail: 'Too many wrong codes; request a new one.' } : {}),
        reason: `sms enrolment: ${r.reason}`,
      });
    }
    await this.events.record({ type: 'mfa_enrolled', userId: user.id, sessionId: by.sessionId, ip: by.ip, data: { method: 'sms' } });
    const recoveryCodes = (await this.recovery.count(user.id)) === 0 ? await this.recovery.regenerate(user.id) : null;
    return { phoneMasked: r.phoneMasked, recoveryCodes };
  }

  /** Works with SMS switched off too: the user can always erase their number. */
  async removeSms(user: UserRow, by: Actor): Promise<void> {
    const had = await this.phone.isEnrolled(user.id);
    if (!(await this.phone.remove(user.id))) throw new TesseraError('not_found');
    if (had) await this.events.record({ type: 'mfa_removed', userId: user.id, sessionId: by.sessionId, ip: by.ip, data: { method: 'sms' } });
    await this.dropCodesIfNoFactor(user.id);
  }

  async regenerateRecoveryCodes(user: UserRow, by: Actor): Promise<string[]> {
    requireVerified(user);
    if (!(await this.hasFactor(user.id))) throw new TesseraError('conflict', { detail: 'Set up an authenticator app or a passkey first.' });
    const codes = await this.recovery.regenerate(user.id);
    await this.events.record({ type: 'recovery_codes_regenerated', userId: user.id, sessionId: by.sessionId, ip: by.ip });
    return codes;
  }

  /**
   * Every factor of the account, gone (a reset reclaiming a never-verified account, core/reclaim.ts),
   * pending enrolments included; returns what there was: `totp`, one `passkey` per key, `sms`, `recovery_codes`.
   */
  async removeAll(userId: string): Promise<string[]> {
    const removed: string[] = [];
    if (await this.totp.isEnrolled(userId)) removed.push('totp');
    await this.totp.remove(userId);
    for (const key of await this.webauthn.list(userId)) {
      if (await this.webauthn.remove(userId, key.id)) removed.push('passkey');
    }
    if (await this.phone.isEnrolled(userId)) removed.push('sms');
    await this.phone.remove(userId);
    if ((await this.recovery.count(userId)) > 0) removed.push('recovery_codes');
    await this.recovery.remove(userId);
    return removed;
  }

  /** A confirmed phone counts even while SMS is switched off, so its recovery codes survive that. */
  private async hasFactor(userId: string): Promise<boolean> {
    return (await this.totp.isEnrolled(userId)) || (await this.webauthn.list(userId)).length > 0 || (await this.phone.isEnrolled(userId));
  }

  private requireSms(): void {
    if (!this.options.smsOtp) throw new TesseraError('invalid_request', { detail: 'Codes by SMS are not enabled.' });
  }

  private async dropCodesIfNoFactor(userId: string): Promise<void> {
    if (!(await this.hasFactor(userId))) await this.recovery.remove(userId);
  }
}
