import type { AccountService } from '../accounts.js';
import type { Clock } from '../../lib/clock.js';
import type { SecretBox } from '../crypto.js';
import type { EventLog } from '../events.js';
import type { Mailer } from '../../mail/types.js';
import type { SharedState } from '../../state/types.js';
import type { Store } from '../../store/types.js';
import { MfaLogin, type MfaOptions } from './login.js';
import { MfaManager } from './manage.js';
import { PhoneService } from './phone.js';
import { RECOVERY_KEY_INFO, RecoveryCodeService } from './recovery.js';
import { TotpService } from './totp.js';
import { WebauthnService, webauthnConfig } from './webauthn.js';
import type { SmsSender } from './sms.js';

export { MfaLogin, type MfaOptions, type MfaMethod, type CodeMethod, type MfaLoginResult } from './login.js';
export { MfaManager, type Actor } from './manage.js';
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

export interface MfaDeps {
  store: Store;
  state: SharedState;
  box: SecretBox;
  clock: Clock;
  events: EventLog;
  accounts: AccountService;
  mailer: Mailer;
  sms: SmsSender;
  issuer: string;
  allowedOrigins: string[];
}

/** Wires the MFA services and plugs the second factor into the password sign-in. */
export function createMfa(d: MfaDeps, options: Partial<MfaOptions> = {}): Mfa {
  const totp = new TotpService(d.store, d.state, d.box, d.clock);
  const recovery = new RecoveryCodeService(d.store, d.clock, d.box.deriveKey(RECOVERY_KEY_INFO));
  const webauthn = new WebauthnService(d.store, d.clock, webauthnConfig(d.issuer, d.allowedOrigins));
  const phone = new PhoneService(d.store, d.state, d.box, d.clock, d.sms);
  const login = new MfaLogin({ store: d.store, state: d.state, clock: d.clock, events: d.events, accounts: d.accounts, mailer: d.mailer, totp, recovery, webauthn, phone }, options);
  d.accounts.secondFactor = login;
  return { login, manage: new MfaManager(d.events, totp, recovery, webauthn, phone, login.options), totp, recovery, webauthn, phone };
}
