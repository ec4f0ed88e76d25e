/** Contract: the OpenID Connect provider's clients, codes, consents, ID-token keys and back-channel queue. */
import { describe, expect, it } from 'vitest';
import type { AuthCodeRow, IdTokenKeyRow, LogoutDeliveryRow, OAuthClientRow } from '../../../src/store/ports/index.js';
import { T0, uid } from '../../support/store-fixtures.js';
import type { ContractContext } from '../contract.js';
import { N } from './constants.js';

function code(over: Partial<AuthCodeRow> = {}): AuthCodeRow {
  return {
    id: uid('code'), secretHash: uid('h'), clientId: 'app_x', userId: 'usr_x', redirectUri: 'http://localhost/cb', codeChallenge: 'c', nonce: null, scope: 'openid',
    resource: null, authTime: T0, amr: ['pwd'], ip: '127.0.0.1', userAgent: null, createdAt: T0, expiresAt: T0 + 60_000, usedAt: null, sessionId: null, ...over,
  };
}

function delivery(over: Partial<LogoutDeliveryRow> = {}): LogoutDeliveryRow {
  return { id: uid('dl'), clientId: 'app_x', sessionId: uid('ses'), userId: 'usr_x', uri: 'http://localhost/bc', attempts: 0, nextAttemptAt: T0, deliveredAt: null, failedAt: null, createdAt: T0, ...over };
}

function idKey(createdAt: number): IdTokenKeyRow {
  return { kid: uid('kid'), alg: 'RS256', publicJwk: '{}', privateSealed: 'sealed', state: 'next', createdAt };
}

export function oauthCodes(ctx: ContractContext): void {
  describe('oauth codes', () => {
    it('a code is consumed once however many exchanges race for it', async () => {
      const c = code();
      await ctx.store.insertCode(c);
      expect(await ctx.store.getCode(c.id)).toEqual(c);
      const wins = await Promise.all(Array.from({ length: N }, () => ctx.store.consumeCode(c.id, T0 + 1)));
      expect(wins.filter((w) => w !== undefined)).toEqual([{ ...c, usedAt: T0 + 1 }]);
      expect(await ctx.store.consumeCode('nope', T0)).toBeUndefined();
    });
    it('the session of a code is recorded once: the exchange or the replay marker, never both', async () => {
      const c = code();
      await ctx.store.insertCode(c);
      const results = await Promise.all([ctx.store.setCodeSession(c.id, 'ses_a'), ctx.store.setCodeSession(c.id, '!replayed')]);
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}

export function oauthClients(ctx: ContractContext): void {
  describe('oauth clients and consents', () => {
    it('clients round-trip with their lists, and the audience finds only a resource server', async () => {
      const row: OAuthClientRow = {
        id: uid('rs'), name: 'notes', type: 'resource', secretHash: 'h', redirectUris: [], postLogoutRedirectUris: [], backchannelLogoutUri: null,
        firstParty: false, scopes: [], audience: `https://${uid('a')}.example/`, createdAt: T0,
      };
      const web: OAuthClientRow = { ...row, id: uid('app'), type: 'web', redirectUris: ['https://a.example/cb'], scopes: ['openid', 'email'], firstParty: true, audience: `https://${uid('b')}.example/` };
      await ctx.store.createOAuthClient(row);
      await ctx.store.createOAuthClient(web);
      expect(await ctx.store.getOAuthClient(row.id)).toEqual(row);
      expect(await ctx.store.getOAuthClient(web.id)).toEqual(web);
      expect((await ctx.store.getOAuthClientByAudience(row.audience ?? ''))?.id).toBe(row.id);
      expect(await ctx.store.getOAuthClientByAudience(web.audience ?? '')).toBeUndefined();
      expect((await ctx.store.listOAuthClients()).map((c) => c.id)).toEqual(expect.arrayContaining([row.id, web.id]));
      expect(await ctx.store.deleteOAuthClient(row.id)).toBe(true);
      expect(await ctx.store.deleteOAuthClient(row.id)).toBe(false);
      expect(await ctx.store.getOAuthClient(row.id)).toBeUndefined();
    });
    it('consent widens and is withdrawn', async () => {
      const userId = uid('usr');
      await ctx.store.putConsent({ userId, clientId: 'c1', scope: 'openid', createdAt: T0 });
      await ctx.store.putConsent({ userId, clientId: 'c1', scope: 'openid email', createdAt: T0 + 1 });
      expect(await ctx.store.listConsents(userId)).toEqual([{ userId, clientId: 'c1', scope: 'openid email', createdAt: T0 + 1 }]);
      expect(await ctx.store.deleteConsent(userId, 'c1')).toBe(true);
      expect(await ctx.store.getConsent(userId, 'c1')).toBeUndefined();
    });
    it('remembers which client holds a session', async () => {
      const row = { sessionId: uid('ses'), clientId: 'c1', userId: uid('usr'), scope: 'openid', resource: null, createdAt: T0 };
      await ctx.store.insertOAuthSession(row);
      expect(await ctx.store.getOAuthSession(row.sessionId)).toEqual(row);
      expect(await ctx.store.listOAuthSessionsOfUser(row.userId)).toEqual([row]);
    });
  });
}

export function oauthKeysAndLogout(ctx: ContractContext): void {
  describe('oauth ID-token keys and back-channel logout', () => {
    it('rotation shifts next → current → previous → retired, racing rotations included', async () => {
      const store = await ctx.open();
      await store.migrate();
      await Promise.all(Array.from({ length: 4 }, (_, i) => store.rotateIdKeys(idKey(T0 + i))));
      const states = (await store.listIdKeys()).map((k) => k.state).sort();
      expect(states).toEqual(['current', 'next', 'previous']);
    });
    it('race: first starts complete the keys once, to exactly one current and one next', async () => {
      const store = await ctx.open();
      await store.migrate();
      const rounds = await Promise.all(Array.from({ length: 6 }, async () => {
        let rotated = 0;
        while (await store.completeIdKeys(idKey(T0 + rotated))) rotated++;
        return rotated;
      }));
      expect(rounds.reduce((a, b) => a + b, 0)).toBe(2);
      expect((await store.listIdKeys()).map((k) => k.state).sort()).toEqual(['current', 'next']);
    });
    it('a logout delivery is enqueued once per session and client, and each attempt is claimed by one node', async () => {
      const d = delivery();
      await Promise.all(Array.from({ length: 5 }, () => ctx.store.enqueueLogout({ ...d, id: uid('dl') })));
      const rows = await ctx.store.listLogouts(d.sessionId);
      expect(rows).toHaveLength(1);
      const [row] = rows;
      if (row === undefined) throw new Error('no delivery');
      const claims = await Promise.all(Array.from({ length: N }, () => ctx.store.claimLogout(row.id, row.attempts, row.nextAttemptAt, T0 + 10_000)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      await ctx.store.finishLogout(row.id, { deliveredAt: T0 + 5 });
      expect(await ctx.store.dueLogouts(T0 + 20_000, 100)).not.toContainEqual(expect.objectContaining({ id: row.id }));
    });
    it('the shared feed cursor only moves forward from where the mover read it', async () => {
      const start = await ctx.store.getFeedCursor();
      expect(await ctx.store.advanceFeedCursor(start, (start ?? 0) + 5)).toBe(true);
      const results = await Promise.all(Array.from({ length: N }, (_, i) => ctx.store.advanceFeedCursor((start ?? 0) + 5, (start ?? 0) + 6 + i)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
