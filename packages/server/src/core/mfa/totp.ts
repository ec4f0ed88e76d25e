import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Clock } from '../../lib/clock.js';
import type { SecretBox } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { SharedState } from '../../state/types.js';
import type { Store, UserRow } from '../../store/ports/index.js';
import { isNumericCode } from './codes.js';

export const TOTP_PERIOD_SEC = 30;
/** ±1 step: a phone clock a little off still works; a code older than that is refused. */
export const TOTP_WINDOW = 1;

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

export type CodeCheck = { ok: true } | { ok: false; reason: 'wrong_code' | 'replayed_code' | 'not_enrolled' };

/**
 * RFC 6238 TOTP. The secret is sealed at rest with the KEK (AAD = user id, so a sealed secret copied into
 * another user's row does not open). Each time step is accepted once per user (RFC 6238 §5.2): the store's
 * atomic `useTotpStep` is the authority, and a shared-state claim repeats the rule across nodes.
 */
export class TotpService {
  constructor(
    private readonly store: Store,
    private readonly state: SharedState,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly issuer = 'Tessera',
  ) {}

  private totp(user: UserRow, base32: string): TOTP {
    return new TOTP({ issuer: this.issuer, label: user.email, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD_SEC, secret: Secret.fromBase32(base32) });
  }

  async isEnrolled(userId: string): Promise<boolean> {
    return (await this.store.getTotp(userId))?.confirmedAt != null;
  }

  /** Starts (or restarts) an enrolment; a confirmed TOTP must be removed first, so it is never silently replaced. */
  async enrol(user: UserRow): Promise<TotpEnrolment> {
    if (await this.isEnrolled(user.id)) throw new TesseraError('conflict', { detail: 'An authenticator app is already set up; remove it first.' });
    const secret = new Secret({ size: 20 }).base32;
    await this.store.putTotp({ userId: user.id, secretSealed: this.box.seal(secret, user.id), confirmedAt: null, lastStep: null, createdAt: this.clock.now() });
    const otpauthUri = this.totp(user, secret).toString();
    const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, otpauthUri, qrSvg };
  }

  /** The first valid code proves the app holds the secret; it also consumes its step. */
  async confirm(user: UserRow, code: string): Promise<CodeCheck> {
    const row = await this.store.getTotp(user.id);
    if (!row || row.confirmedAt !== null) return { ok: false, reason: 'not_enrolled' };
    const step = this.matchStep(user, row.secretSealed, code);
    if (step === null) return { ok: false, reason: 'wrong_code' };
    if (!(await this.store.confirmTotp(user.id, this.clock.now(), step))) return { ok: false, reason: 'replayed_code' };
    await this.state.claimOnce(this.replayKey(user.id, step), this.replayTtlMs());
    return { ok: true };
  }

  async verify(user: UserRow, code: string): Promise<CodeCheck> {
    const row = await this.store.getTotp(user.id);
    if (!row || row.confirmedAt === null) return { ok: false, reason: 'not_enrolled' };
    const step = this.matchStep(user, row.secretSealed, code);
    if (step === null) return { ok: false, reason: 'wrong_code' };
    // A code seen by a shoulder-surfer, a phishing proxy or a log is worthless once it has been used.
    if (!(await this.store.useTotpStep(user.id, step))) return { ok: false, reason: 'replayed_code' };
    if (!(await this.state.claimOnce(this.replayKey(user.id, step), this.replayTtlMs()))) return { ok: false, reason: 'replayed_code' };
    return { ok: true };
  }

  async remove(userId: string): Promise<boolean> {
    const had = (await this.store.getTotp(userId)) !== undefined;
    await this.store.deleteTotp(userId);
    return had;
  }

  /** the time step the code belongs to, within the window, or null */
  private matchStep(user: UserRow, sealed: string, code: string): number | null {
    if (!isNumericCode(code)) return null;
    const now = this.clock.now();
    const delta = this.totp(user, this.box.open(sealed, user.id)).validate({ token: code, timestamp: now, window: TOTP_WINDOW });
    if (delta === null) return null;
    return Math.floor(now / 1000 / TOTP_PERIOD_SEC) + delta;
  }

  private replayKey(userId: string, step: number): string {
    return `totp:${userId}:${step}`;
  }

  private replayTtlMs(): number {
    return (2 * TOTP_WINDOW + 2) * TOTP_PERIOD_SEC * 1000;
  }
}
