/**
 * The storage ports: one narrow interface per area, so each core service takes only what it uses. Every
 * operation that must happen at most once is one atomic statement or transaction (consume-once, guarded
 * increment, rotation), so races are impossible by construction on every database. All times are epoch
 * milliseconds. Implementation: store/sql/ (one per area) over the dialects in store/dialects/.
 * Conformance: test/store/contract.ts, run against every backend.
 */
import type { ChallengeStore } from './challenges.js';
import type { ClientStore } from './clients.js';
import type { EventStore } from './events.js';
import type { KekCheckStore, KeyStore } from './keys.js';
import type { HousekeepingStore } from './housekeeping.js';
import type { LifecycleStore } from './lifecycle.js';
import type { MaintenanceStore } from './maintenance.js';
import type { OAuthStore } from './oauth.js';
import type { PhoneStore } from './phones.js';
import type { PrincipalStore } from './principal.js';
import type { RecoveryCodeStore } from './recovery-codes.js';
import type { ResetStore } from './resets.js';
import type { RevocationStore } from './revocations.js';
import type { SessionStore } from './sessions.js';
import type { TotpStore } from './totp.js';
import type { UserStore } from './users.js';
import type { VerificationStore } from './verifications.js';
import type { WebauthnStore } from './webauthn.js';

export type * from './challenges.js';
export type * from './clients.js';
export type * from './events.js';
export type * from './keys.js';
export type * from './housekeeping.js';
export type * from './lifecycle.js';
export type * from './maintenance.js';
export type * from './oauth.js';
export type * from './phones.js';
export type * from './principal.js';
export type * from './recovery-codes.js';
export type * from './resets.js';
export type * from './revocations.js';
export type * from './sessions.js';
export type * from './totp.js';
export type * from './users.js';
export type * from './verifications.js';
export type * from './webauthn.js';

/** every port at once; the composition root opens one and hands each service the ports it needs */
export interface Store
  extends UserStore,
    SessionStore,
    KeyStore,
    KekCheckStore,
    ClientStore,
    EventStore,
    RevocationStore,
    ResetStore,
    VerificationStore,
    TotpStore,
    RecoveryCodeStore,
    WebauthnStore,
    ChallengeStore,
    PhoneStore,
    OAuthStore,
    LifecycleStore,
    MaintenanceStore,
    HousekeepingStore,
    PrincipalStore {}
