/** Contract: the authenticated request's one read (store/ports/principal.ts). */
import { describe, expect, it } from 'vitest';
import { T0, session, uid, user } from '../../support/store-fixtures.js';
import type { ContractContext } from '../contract.js';

export function principalRead(ctx: ContractContext): void {
  describe('principal read', () => {
    it('reads the session, its user and their MFA summary in one call; unknown sessions are undefined', async () => {
      const u = user({ isAdmin: true });
      await ctx.store.createUser(u);
      const s = session(u.id);
      await ctx.store.createSession(s);
      expect(await ctx.store.getPrincipal(s.id)).toEqual({ session: s, user: u, mfa: { totp: false, passkeys: 0, sms: null, recoveryCodesLeft: 0 } });
      expect(await ctx.store.getPrincipal(uid('ses'))).toBeUndefined();
      expect(await ctx.store.getMfaCounts(u.id)).toEqual({ totp: false, passkeys: 0, sms: null, recoveryCodesLeft: 0 });

      // unconfirmed enrolments do not count
      await ctx.store.putTotp({ userId: u.id, secretSealed: 'x', confirmedAt: null, lastStep: null, createdAt: T0 });
      await ctx.store.putSmsPhone({ userId: u.id, phoneSealed: 'x', phoneMasked: '+44••••789', confirmedAt: null, codeHash: 'h', codeExpiresAt: T0 + 1, attempts: 0, createdAt: T0 });
      expect((await ctx.store.getPrincipal(s.id))?.mfa).toEqual({ totp: false, passkeys: 0, sms: null, recoveryCodesLeft: 0 });
      expect(await ctx.store.getMfaCounts(u.id)).toEqual({ totp: false, passkeys: 0, sms: null, recoveryCodesLeft: 0 });

      await ctx.store.putTotp({ userId: u.id, secretSealed: 'x', confirmedAt: T0, lastStep: null, createdAt: T0 });
      await ctx.store.confirmSmsPhone(u.id, 'h', T0);
      for (const id of [uid('cred'), uid('cred')]) {
        await ctx.store.insertWebauthnCredential({ id, userId: u.id, publicKey: 'pk', counter: 0, transports: [], name: 'key', createdAt: T0, lastUsedAt: null });
      }
      await ctx.store.replaceRecoveryCodes(u.id, ['a', 'b', 'c'], T0);
      await ctx.store.consumeRecoveryCode(u.id, 'b', T0);
      expect((await ctx.store.getPrincipal(s.id))?.mfa).toEqual({ totp: true, passkeys: 2, sms: '+44••••789', recoveryCodesLeft: 2 });
      // the sign-in's read of the same summary, by user alone (another user's factors never count)
      expect(await ctx.store.getMfaCounts(u.id)).toEqual({ totp: true, passkeys: 2, sms: '+44••••789', recoveryCodesLeft: 2 });
      expect(await ctx.store.getMfaCounts(uid('usr'))).toEqual({ totp: false, passkeys: 0, sms: null, recoveryCodesLeft: 0 });
    });

    it('reads every column into its own field (a row read by position: no two fields share a value here)', async () => {
      const u = user({ isAdmin: false, passwordResetRequired: true, legacy: true, createdAt: T0 + 1, emailVerifiedAt: T0 + 2, disabledAt: T0 + 3 });
      await ctx.store.createUser(u);
      const s = session(u.id, {
        createdAt: T0 + 4, lastSeenAt: T0 + 5, expiresAt: T0 + 6, authTime: T0 + 7, revokedAt: T0 + 8, revokeReason: 'logout',
        dpopJkt: 'jkt-1', transport: 'cookie', userAgent: 'agent-1', ip: '198.51.100.7', amr: ['pwd'], geo: null,
      });
      await ctx.store.createSession(s);
      expect(await ctx.store.getPrincipal(s.id)).toEqual({ session: s, user: u, mfa: { totp: false, passkeys: 0, sms: null, recoveryCodesLeft: 0 } });
    });
  });
}
