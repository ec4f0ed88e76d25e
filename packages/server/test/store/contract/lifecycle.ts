/** Contract: change of email, disabled accounts, erasure and the admin list's facts. */
import { describe, expect, it } from 'vitest';
import type { EmailChangeRow } from '../../../src/store/ports/index.js';
import { HOUR, T0, refresh, session, uid, user } from '../../support/store-fixtures.js';
import type { ContractContext } from '../contract.js';
import { N } from './constants.js';

function change(userId: string, over: Partial<EmailChangeRow> = {}): EmailChangeRow {
  return { id: uid('ec'), userId, newEmail: `${uid('new')}@example.test`, secretHash: uid('h'), createdAt: T0, expiresAt: T0 + HOUR, usedAt: null, ...over };
}

export function emailChanges(ctx: ContractContext): void {
  describe('email changes', () => {
    it('a confirmation link is consumed once however many confirmations race; an expired one never', async () => {
      const userId = await ctx.newUser();
      const c = change(userId);
      await ctx.store.insertEmailChange(c);
      expect(await ctx.store.getEmailChange(c.id)).toEqual(c);
      const wins = await Promise.all(Array.from({ length: N }, () => ctx.store.consumeEmailChange(c.id, T0 + 1)));
      expect(wins.filter((w) => w !== undefined)).toEqual([{ ...c, usedAt: T0 + 1 }]);
      const old = change(userId);
      await ctx.store.insertEmailChange(old);
      expect(await ctx.store.consumeEmailChange(old.id, T0 + HOUR)).toBeUndefined();
      expect(await ctx.store.consumeEmailChange('nope', T0)).toBeUndefined();
    });
    it('setEmail replaces the address, and answers false for a taken one; racing takers: one wins', async () => {
      const a = await ctx.newUser();
      const b = user();
      expect(await ctx.store.createUser(b)).toBe(true);
      const email = `${uid('moved')}@example.test`;
      expect(await ctx.store.setEmail(a, email)).toBe(true);
      expect((await ctx.store.getUserByEmail(email))!.id).toBe(a);
      expect(await ctx.store.setEmail(b.id, email)).toBe(false);
      expect((await ctx.store.getUserById(b.id))!.email).toBe(b.email);
      const racers = await Promise.all(Array.from({ length: 5 }, async () => ctx.newUser()));
      const target = `${uid('race')}@example.test`;
      expect((await Promise.all(racers.map((id) => ctx.store.setEmail(id, target)))).filter(Boolean)).toHaveLength(1);
    });
    it('disables and enables', async () => {
      const id = await ctx.newUser();
      await ctx.store.setDisabledAt(id, T0 + 5);
      expect((await ctx.store.getUserById(id))!.disabledAt).toBe(T0 + 5);
      await ctx.store.setDisabledAt(id, null);
      expect((await ctx.store.getUserById(id))!.disabledAt).toBeNull();
    });
  });
}

export function erasure(ctx: ContractContext): void {
  describe('erasure', () => {
    it('deletes the user and every row naming it, keeps the events without IP and personal fields, frees the address', async () => {
      const u = user();
      expect(await ctx.store.createUser(u)).toBe(true);
      const s = session(u.id);
      await ctx.store.createSession(s);
      await ctx.store.insertRefreshToken(refresh(s.id));
      await ctx.store.putTotp({ userId: u.id, secretSealed: 'x', confirmedAt: T0, lastStep: null, createdAt: T0 });
      await ctx.store.replaceRecoveryCodes(u.id, ['h1', 'h2'], T0);
      await ctx.store.insertWebauthnCredential({ id: uid('cred'), userId: u.id, publicKey: 'k', counter: 0, transports: [], name: 'key', createdAt: T0, lastUsedAt: null });
      await ctx.store.insertEmailChange(change(u.id));
      await ctx.store.insertPasswordReset({ id: uid('rst'), userId: u.id, secretHash: 'h', createdAt: T0, expiresAt: T0 + HOUR, usedAt: null });
      await ctx.store.putConsent({ userId: u.id, clientId: 'c1', scope: 'openid', createdAt: T0 });
      await ctx.store.insertOAuthSession({ sessionId: s.id, clientId: 'c1', userId: u.id, scope: 'openid', resource: null, createdAt: T0 });
      const ev = await ctx.store.appendEvent({ type: 'login_succeeded', userId: u.id, sessionId: s.id, ip: '203.0.113.5', data: { amr: ['pwd'], user_agent: 'Firefox', city: 'London' }, createdAt: T0 });
      const facts = await ctx.store.userFacts([u.id, 'nobody']);
      expect(facts.get(u.id)).toEqual({ lastSignInAt: T0, mfa: true });
      expect((await ctx.store.listSessionsOfUser(u.id)).map((x) => x.id)).toEqual([s.id]);
      expect(facts.get('nobody')).toEqual({ lastSignInAt: null, mfa: false });

      expect(await ctx.store.eraseUser(u.id, ['user_agent', 'city'])).toBe(true);
      expect(await ctx.store.getUserById(u.id)).toBeUndefined();
      expect(await ctx.store.getSession(s.id)).toBeUndefined();
      expect(await ctx.store.listRefreshTokens(s.id)).toEqual([]);
      expect(await ctx.store.getTotp(u.id)).toBeUndefined();
      expect(await ctx.store.countRecoveryCodes(u.id)).toBe(0);
      expect(await ctx.store.listWebauthnCredentials(u.id)).toEqual([]);
      expect(await ctx.store.listConsents(u.id)).toEqual([]);
      expect(await ctx.store.listOAuthSessionsOfUser(u.id)).toEqual([]);
      const [kept] = await ctx.store.listEvents({ userId: u.id, limit: 10 });
      expect(kept).toMatchObject({ id: ev, type: 'login_succeeded', ip: null, data: { amr: ['pwd'] } });
      expect(kept.data).not.toHaveProperty('user_agent');
      expect(await ctx.store.createUser(user({ email: u.email }))).toBe(true);
      expect(await ctx.store.eraseUser(u.id, [])).toBe(false);
    });
  });
}
