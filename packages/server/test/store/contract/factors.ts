/** Contract: password resets, email verifications, TOTP, recovery codes, WebAuthn, MFA challenges, the SMS phone. */
import { describe, expect, it } from 'vitest';
import type { SmsPhoneRow } from '../../../src/store/ports/index.js';
import { HOUR, T0, challenge, reset, uid, verification } from '../../support/store-fixtures.js';
import type { ContractContext } from '../contract.js';
import { N } from './constants.js';

export function passwordResets(ctx: ContractContext): void {
  describe('password resets', () => {
    it('consumes once, never after expiry', async () => {
      const userId = await ctx.newUser();
      const p = reset(userId);
      await ctx.store.insertPasswordReset(p);
      expect(await ctx.store.getPasswordReset(p.id)).toEqual(p);
      expect(await ctx.store.consumePasswordReset(p.id, T0 + 1)).toEqual({ ...p, usedAt: T0 + 1 });
      expect(await ctx.store.consumePasswordReset(p.id, T0 + 2)).toBeUndefined();
      const old = reset(userId);
      await ctx.store.insertPasswordReset(old);
      expect(await ctx.store.consumePasswordReset(old.id, old.expiresAt)).toBeUndefined();
      expect(await ctx.store.consumePasswordReset('nope', T0)).toBeUndefined();
    });
    it('race: 20 concurrent consumes → exactly one winner', async () => {
      const p = reset(await ctx.newUser());
      await ctx.store.insertPasswordReset(p);
      const results = await Promise.all(Array.from({ length: N }, () => ctx.store.consumePasswordReset(p.id, T0 + 1)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });
  });
}

export function emailVerifications(ctx: ContractContext): void {
  describe('email verifications', () => {
    it('consumes once, never after expiry', async () => {
      const userId = await ctx.newUser();
      const v = verification(userId);
      await ctx.store.insertEmailVerification(v);
      expect(await ctx.store.getEmailVerification(v.id)).toEqual(v);
      expect(await ctx.store.consumeEmailVerification(v.id, T0 + 1)).toEqual({ ...v, usedAt: T0 + 1 });
      expect(await ctx.store.consumeEmailVerification(v.id, T0 + 2)).toBeUndefined();
      const old = verification(userId);
      await ctx.store.insertEmailVerification(old);
      expect(await ctx.store.consumeEmailVerification(old.id, old.expiresAt)).toBeUndefined();
      expect(await ctx.store.consumeEmailVerification('nope', T0)).toBeUndefined();
      expect(await ctx.store.getEmailVerification('nope')).toBeUndefined();
    });
    it('race: 20 concurrent consumes → exactly one winner', async () => {
      const v = verification(await ctx.newUser());
      await ctx.store.insertEmailVerification(v);
      const results = await Promise.all(Array.from({ length: N }, () => ctx.store.consumeEmailVerification(v.id, T0 + 1)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });
    it('expired links are pruned', async () => {
      const v = verification(await ctx.newUser(), { expiresAt: T0 - 10 * HOUR });
      await ctx.store.insertEmailVerification(v);
      await ctx.store.pruneExpired(T0 - HOUR);
      expect(await ctx.store.getEmailVerification(v.id)).toBeUndefined();
    });
  });
}

export function totp(ctx: ContractContext): void {
  describe('TOTP', () => {
    it('puts, replaces, confirms once and moves the step forward only', async () => {
      const userId = await ctx.newUser();
      await ctx.store.putTotp({ userId, secretSealed: 'a', confirmedAt: null, lastStep: null, createdAt: T0 });
      await ctx.store.putTotp({ userId, secretSealed: 'b', confirmedAt: null, lastStep: null, createdAt: T0 + 1 });
      expect(await ctx.store.getTotp(userId)).toEqual({ userId, secretSealed: 'b', confirmedAt: null, lastStep: null, createdAt: T0 + 1 });
      expect(await ctx.store.confirmTotp(userId, T0 + 2, 100)).toBe(true);
      expect(await ctx.store.confirmTotp(userId, T0 + 3, 101)).toBe(false);
      expect(await ctx.store.getTotp(userId)).toMatchObject({ confirmedAt: T0 + 2, lastStep: 100 });
      expect(await ctx.store.useTotpStep(userId, 100)).toBe(false);
      expect(await ctx.store.useTotpStep(userId, 99)).toBe(false);
      expect(await ctx.store.useTotpStep(userId, 101)).toBe(true);
      expect(await ctx.store.useTotpStep(userId, 101)).toBe(false);
      expect(await ctx.store.useTotpStep('nope', 1)).toBe(false);
      await ctx.store.deleteTotp(userId);
      expect(await ctx.store.getTotp(userId)).toBeUndefined();
    });
    it('race: 20 concurrent uses of one step → exactly one winner', async () => {
      const userId = await ctx.newUser();
      await ctx.store.putTotp({ userId, secretSealed: 's', confirmedAt: T0, lastStep: 10, createdAt: T0 });
      const results = await Promise.all(Array.from({ length: N }, () => ctx.store.useTotpStep(userId, 11)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}

export function recoveryCodes(ctx: ContractContext): void {
  describe('recovery codes', () => {
    it('replaces, counts unused, consumes once per user', async () => {
      const userId = await ctx.newUser();
      const other = await ctx.newUser();
      await ctx.store.replaceRecoveryCodes(userId, ['h1', 'h2', 'h3', 'h3'], T0);
      expect(await ctx.store.countRecoveryCodes(userId)).toBe(3);
      expect(await ctx.store.consumeRecoveryCode(other, 'h1', T0)).toBe(false);
      expect(await ctx.store.consumeRecoveryCode(userId, 'h1', T0)).toBe(true);
      expect(await ctx.store.consumeRecoveryCode(userId, 'h1', T0)).toBe(false);
      expect(await ctx.store.consumeRecoveryCode(userId, 'zz', T0)).toBe(false);
      expect(await ctx.store.countRecoveryCodes(userId)).toBe(2);
      await ctx.store.replaceRecoveryCodes(userId, ['h1', 'h9'], T0 + 1);
      expect(await ctx.store.countRecoveryCodes(userId)).toBe(2);
      expect(await ctx.store.consumeRecoveryCode(userId, 'h2', T0)).toBe(false);
      expect(await ctx.store.consumeRecoveryCode(userId, 'h1', T0)).toBe(true);
      await ctx.store.deleteRecoveryCodes(userId);
      expect(await ctx.store.countRecoveryCodes(userId)).toBe(0);
    });
    it('race: 20 concurrent consumes of one code → exactly one winner', async () => {
      const userId = await ctx.newUser();
      await ctx.store.replaceRecoveryCodes(userId, ['only'], T0);
      const results = await Promise.all(Array.from({ length: N }, () => ctx.store.consumeRecoveryCode(userId, 'only', T0 + 1)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}

export function webauthnCredentials(ctx: ContractContext): void {
  describe('WebAuthn credentials', () => {
    it('round-trips, lists per user and deletes only the owner’s', async () => {
      const userId = await ctx.newUser();
      const c = { id: uid('cred'), userId, publicKey: 'pk', counter: 0, transports: ['internal', 'hybrid'], name: 'laptop', createdAt: T0, lastUsedAt: null };
      await ctx.store.insertWebauthnCredential(c);
      expect(await ctx.store.getWebauthnCredential(c.id)).toEqual(c);
      expect(await ctx.store.listWebauthnCredentials(userId)).toEqual([c]);
      expect(await ctx.store.deleteWebauthnCredential(await ctx.newUser(), c.id)).toBe(false);
      expect(await ctx.store.deleteWebauthnCredential(userId, c.id)).toBe(true);
      expect(await ctx.store.getWebauthnCredential(c.id)).toBeUndefined();
    });
    it('moves the counter forward only; 0 → 0 is allowed for counterless authenticators', async () => {
      const userId = await ctx.newUser();
      const c = { id: uid('cred'), userId, publicKey: 'pk', counter: 0, transports: [], name: 'key', createdAt: T0, lastUsedAt: null };
      await ctx.store.insertWebauthnCredential(c);
      expect(await ctx.store.updateWebauthnCounter(c.id, 0, T0 + 1)).toBe(true);
      expect(await ctx.store.updateWebauthnCounter(c.id, 5, T0 + 2)).toBe(true);
      expect(await ctx.store.updateWebauthnCounter(c.id, 5, T0 + 3)).toBe(false);
      expect(await ctx.store.updateWebauthnCounter(c.id, 4, T0 + 3)).toBe(false);
      expect(await ctx.store.updateWebauthnCounter(c.id, 0, T0 + 3)).toBe(false);
      expect(await ctx.store.getWebauthnCredential(c.id)).toMatchObject({ counter: 5, lastUsedAt: T0 + 2 });
    });
  });
}

export function mfaChallenges(ctx: ContractContext): void {
  describe('MFA challenges', () => {
    it('round-trips, sets the challenge, consumes once, never after expiry', async () => {
      const userId = await ctx.newUser();
      const m = challenge(userId);
      await ctx.store.insertMfaChallenge(m);
      expect(await ctx.store.getMfaChallenge(m.id)).toEqual(m);
      await ctx.store.setMfaChallengeChallenge(m.id, 'webauthn-challenge');
      expect(await ctx.store.consumeMfaChallenge(m.id, T0 + 1)).toEqual({ ...m, challenge: 'webauthn-challenge', usedAt: T0 + 1 });
      expect(await ctx.store.consumeMfaChallenge(m.id, T0 + 2)).toBeUndefined();
      const anon = challenge(null, { kind: 'webauthn_login' });
      await ctx.store.insertMfaChallenge(anon);
      expect(await ctx.store.consumeMfaChallenge(anon.id, anon.expiresAt)).toBeUndefined();
      expect(await ctx.store.getMfaChallenge(anon.id)).toEqual(anon);
    });
    it('race: 20 concurrent consumes → exactly one winner', async () => {
      const m = challenge(await ctx.newUser());
      await ctx.store.insertMfaChallenge(m);
      const results = await Promise.all(Array.from({ length: N }, () => ctx.store.consumeMfaChallenge(m.id, T0 + 1)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });
    it('race: a concurrent burst of failures counts 1..N with no lost update', async () => {
      const m = challenge(await ctx.newUser());
      await ctx.store.insertMfaChallenge(m);
      const counts = await Promise.all(Array.from({ length: N }, () => ctx.store.incrementMfaFailures(m.id)));
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect((await ctx.store.getMfaChallenge(m.id))!.failures).toBe(N);
      expect(await ctx.store.incrementMfaFailures('nope')).toBe(0);
    });
  });
}

export function smsPhone(ctx: ContractContext): void {
  describe('SMS phone', () => {
    const phone = (userId: string, over: Partial<SmsPhoneRow> = {}): SmsPhoneRow => ({
      userId,
      phoneSealed: 'sealed-a',
      phoneMasked: '+44••••••789',
      confirmedAt: null,
      codeHash: 'code-a',
      codeExpiresAt: T0 + 600_000,
      attempts: 0,
      createdAt: T0,
      ...over,
    });
    it('round-trips, replaces a pending enrolment but never a confirmed phone, deletes', async () => {
      const userId = await ctx.newUser();
      expect(await ctx.store.getSmsPhone(userId)).toBeUndefined();
      expect(await ctx.store.putSmsPhone(phone(userId))).toBe(true);
      expect(await ctx.store.getSmsPhone(userId)).toEqual(phone(userId));
      expect(await ctx.store.incrementSmsAttempts(userId)).toBe(1);
      const b = phone(userId, { phoneSealed: 'sealed-b', codeHash: 'code-b', createdAt: T0 + 1 });
      expect(await ctx.store.putSmsPhone(b)).toBe(true);
      expect(await ctx.store.getSmsPhone(userId)).toEqual(b);
      expect(await ctx.store.confirmSmsPhone(userId, 'code-b', T0 + 2)).toBe(true);
      const confirmed = { ...b, confirmedAt: T0 + 2, codeHash: null, codeExpiresAt: null };
      expect(await ctx.store.getSmsPhone(userId)).toEqual(confirmed);
      expect(await ctx.store.putSmsPhone(phone(userId, { phoneSealed: 'sealed-c' }))).toBe(false);
      expect(await ctx.store.getSmsPhone(userId)).toEqual(confirmed);
      expect(await ctx.store.incrementSmsAttempts(userId)).toBe(0);
      expect(await ctx.store.deleteSmsPhone(await ctx.newUser())).toBe(false);
      expect(await ctx.store.deleteSmsPhone(userId)).toBe(true);
      expect(await ctx.store.getSmsPhone(userId)).toBeUndefined();
      expect(await ctx.store.putSmsPhone(phone(userId, { phoneSealed: 'sealed-d' }))).toBe(true);
    });
    it('confirms only with the pending code, once, never after expiry', async () => {
      const userId = await ctx.newUser();
      await ctx.store.putSmsPhone(phone(userId));
      expect(await ctx.store.confirmSmsPhone(userId, 'code-x', T0 + 1)).toBe(false);
      expect(await ctx.store.confirmSmsPhone(userId, 'code-a', T0 + 600_000)).toBe(false);
      expect(await ctx.store.confirmSmsPhone(await ctx.newUser(), 'code-a', T0 + 1)).toBe(false);
      expect(await ctx.store.confirmSmsPhone(userId, 'code-a', T0 + 1)).toBe(true);
      expect(await ctx.store.confirmSmsPhone(userId, 'code-a', T0 + 2)).toBe(false);
      expect(await ctx.store.incrementSmsAttempts('nope')).toBe(0);
    });
    it('refuses a phone of an unknown user (foreign keys are on)', async () => {
      await expect(ctx.store.putSmsPhone(phone(uid('ghost')))).rejects.toThrow();
    });
    it('race: 20 concurrent confirmations → exactly one winner; attempts count 1..N with no lost update', async () => {
      const userId = await ctx.newUser();
      await ctx.store.putSmsPhone(phone(userId));
      const counts = await Promise.all(Array.from({ length: N }, () => ctx.store.incrementSmsAttempts(userId)));
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      const results = await Promise.all(Array.from({ length: N }, () => ctx.store.confirmSmsPhone(userId, 'code-a', T0 + 1)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
