/**
 * The storage contract, as one suite any backend runs: `describeStoreContract(name, open)` from a few-line
 * test file per database (sqlite.test.ts, postgres.test.ts, mariadb.test.ts). It speaks only the ports;
 * where a test must look at what is stored, the backend's `inspect` hook answers. Every race the contract
 * promises to win by construction is raced here, on every backend.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { Store } from '../../src/store/ports/index.js';
import { session, user } from '../support/store-fixtures.js';
import { clients, durableRevocation, lifecycle, refreshTokens, sessions, userListing, users } from './contract/accounts.js';
import { emailChanges, erasure } from './contract/lifecycle.js';
import { emailVerifications, mfaChallenges, passwordResets, recoveryCodes, smsPhone, totp, webauthnCredentials } from './contract/factors.js';
import { events, feedOrder, housekeeping, revocationFeed, signingKeys } from './contract/feed.js';
import { housekeepingBatches } from './contract/pruning.js';
import { loginHistory } from './contract/login-history.js';
import { principalRead } from './contract/principal.js';
import { oauthClients, oauthCodes, oauthKeysAndLogout } from './contract/oauth.js';

/** what only the backend can answer, by looking beneath the ports */
export interface StoreInspection {
  /** how many migrations the database records as applied */
  migrations(): Promise<number>;
}

export interface OpenedContractStore {
  /** a fresh, unmigrated store on its own database (file, memory, PostgreSQL schema, MariaDB database) */
  store: Store;
  inspect: StoreInspection;
}

export interface ContractOptions {
  /** a reason to skip (the database is unreachable), or false */
  skip?: string | false;
  /** removes what every open() created, after the suite */
  cleanup?: () => Promise<void>;
}

export interface ContractContext {
  /** the migrated store most tests share */
  readonly store: Store;
  readonly inspect: StoreInspection;
  /** another fresh, unmigrated store, for tests that need an empty database */
  open(): Promise<Store>;
  newUser(): Promise<string>;
  newSession(): Promise<{ userId: string; sessionId: string }>;
}

const AREAS: Array<(ctx: ContractContext) => void> = [
  lifecycle,
  users,
  userListing,
  sessions,
  durableRevocation,
  refreshTokens,
  signingKeys,
  clients,
  events,
  revocationFeed,
  feedOrder,
  housekeeping,
  passwordResets,
  emailVerifications,
  totp,
  recoveryCodes,
  webauthnCredentials,
  mfaChallenges,
  smsPhone,
  oauthCodes,
  oauthClients,
  oauthKeysAndLogout,
  emailChanges,
  erasure,
  housekeepingBatches,
  principalRead,
  loginHistory,
];

export function describeStoreContract(name: string, open: () => Promise<OpenedContractStore>, opts: ContractOptions = {}): void {
  describe.skipIf(Boolean(opts.skip))(`store contract: ${name}${opts.skip ? ` (skipped: ${opts.skip})` : ''}`, () => {
    let main: OpenedContractStore | undefined;
    const extra: Store[] = [];
    const ready = (): OpenedContractStore => {
      if (main === undefined) throw new Error('the contract store is not open');
      return main;
    };
    beforeAll(async () => {
      main = await open();
      await main.store.migrate();
    });
    afterAll(async () => {
      await Promise.all([main?.store.close(), ...extra.map((s) => s.close())]);
      await opts.cleanup?.();
    });

    const ctx: ContractContext = {
      get store() {
        return ready().store;
      },
      get inspect() {
        return ready().inspect;
      },
      async open() {
        const fresh = (await open()).store;
        extra.push(fresh);
        return fresh;
      },
      async newUser() {
        const u = user();
        expect(await ready().store.createUser(u)).toBe(true);
        return u.id;
      },
      async newSession() {
        const userId = await ctx.newUser();
        const s = session(userId);
        await ready().store.createSession(s);
        return { userId, sessionId: s.id };
      },
    };
    for (const area of AREAS) area(ctx);
  });
}
