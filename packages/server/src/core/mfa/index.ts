import type { Clock } from '../../lib/clock.js';
import type { SecretBox } from '../crypto.js';
import type { EventLog } from '../events.js';
import type { LoginCompletion } from '../login/complete.js';
import type { AttemptGuard, LoginCheck } from '../login/hooks.js';
import type { Mailer } from '../../mail/types.js';
import type { SharedState } from '../../state/types.js';
import type { ChallengeStore, PhoneStore, PrincipalStore, TotpStore, UserStore } from '../../store/ports/index.js';
import { MfaLogin, type MfaOptions } from './login.js';
import { MfaManager } from './manage.js';
import { PhoneService } from './phone.js';
import { RECOVERY_KEY_INFO, RecoveryCodeService } from './recovery.js';
import { TotpLock } from './totp-lock.js';
import { TotpService } from './totp.js';
import { WebauthnService, webauthnConfig } from './webauthn.js';
import type { SmsSender } from './sms.js';

export { MfaLogin, type MfaOptions, type MfaMethod, type CodeMethod, type MfaLoginResult } from './login.js';
export { MfaManager, type Actor, type MfaSummary } from './manage.js';
export { RecoveryCodeService } from './recovery.js';
export { TotpService, type TotpEnrolment } from './totp.js';
export { WebauthnService, webauthnConfig, type WebauthnConfig } from './webauthn.js';
export { LoggingSmsSender, type SmsSender } from './sms.js';
export { PhoneService, PHONE_E164, normalizePhone, maskPhone, type SmsCheck } from './phone.js';
export { OTP_TTL_MS, type OtpMethod } from './otp.js';

export interface Mfa {
  login: MfaLogin;
  manage: MfaManager;
  totp: TotpService;
  recovery: RecoveryCodeService;
  webauthn: WebauthnService;
  phone: PhoneService;
}

/** The storage ports of the MFA services, one per service. */
export interface MfaStores {
  users: Pick<UserStore, 'getUserById'>;
  totp: TotpStore;
  recovery: ConstructorParameters<typeof RecoveryCodeService>[0];
  webauthn: ConstructorParameters<typeof WebauthnService>[0];
  challenges: ChallengeStore;
  phones: PhoneStore;
  /** the factors of a user in one read, for the sign-in's choice of second step */
  counts: Pick<PrincipalStore, 'getMfaCounts'>;
}

export interface MfaDeps {
  stores: MfaStores;
  state: SharedState;
  box: SecretBox;
  clock: Clock;
  events: EventLog;
  mailer: Mailer;
  sms: SmsSender;
  issuer: string;
  allowedOrigins: string[];
  /** the risk engine's sign-in verdict (passkey-only sign-ins run it here) */
  loginCheck: LoginCheck;
  completion: LoginCompletion;
  guard: Pick<AttemptGuard, 'clear' | 'recordSuccess'>;
  /** a security mail (TOTP locked) could not be sent; the lock stands regardless */
  onMailError: (err: unknown) => void;
}

/** Wires the MFA services; `login` is the second factor the account service is built with. */
export function createMfa(d: MfaDeps, options: Partial<MfaOptions> = {}): Mfa {
  const totp = new TotpService(d.stores.totp, d.state, d.box, d.clock);
  const recovery = new RecoveryCodeService(d.stores.recovery, d.clock, d.box.deriveKey(RECOVERY_KEY_INFO));
  const webauthn = new WebauthnService(d.stores.webauthn, d.clock, webauthnConfig(d.issuer, d.allowedOrigins));
  const phone = new PhoneService(d.stores.phones, d.state, d.box, d.clock, d.sms);
  const totpLock = new TotpLock(
    { state: d.state, events: d.events, mailer: d.mailer, clock: d.clock, issuer: d.issuer, onMailError: d.onMailError },
    options.totpFailuresPerDay ?? 10,
  );
  const login = new MfaLogin(
    {
      challenges: d.stores.challenges,
      users: d.stores.users,
      state: d.state,
      clock: d.clock,
      events: d.events,
      mailer: d.mailer,
      totp,
      totpLock,
      recovery,
      webauthn,
      phone,
      counts: d.stores.counts,
      loginCheck: d.loginCheck,
      completion: d.completion,
      guard: d.guard,
    },
    options,
  );
  return { login, manage: new MfaManager(d.events, totp, recovery, webauthn, phone, login.options), totp, recovery, webauthn, phone };
}
