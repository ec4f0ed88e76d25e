import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStore } from '../../src/store/connect.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

/**
 * The server's own routes verify a token once and then find it in the SDK's cache of verified tokens: what
 * the cache must never skip is checked here with a token that is already in it (two 200s first).
 */
describe('a cached access token on the server\'s own routes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  async function cachedToken(email: string): Promise<{ token: string; userId: string }> {
    await signUp(s, email, PASSWORD);
    const l = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD } });
    const token = l.body.access_token as string;
    for (let i = 0; i < 2; i++) expect((await me(token)).status).toBe(200);
    return { token, userId: (await me(token)).body.id as string };
  }
  const me = (token: string) => http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${token}` } });

  it('is refused at once when its session is revoked', async () => {
    const { token, userId } = await cachedToken('revoked@example.com');
    await s.t.sessions.revokeAll(userId, 'test');
    const r = await me(token);
    expect([r.status, r.body.code]).toEqual([401, 'invalid_token']);
  });

  it('is refused at once when its user is disabled', async () => {
    const { token, userId } = await cachedToken('disabled@example.com');
    // only the user row: the session stays live, so the refusal is the disabled check itself
    await (s.t.store as SqlStore).db.updateTable('users').set({ disabledAt: Date.now() }).where('id', '=', userId).execute();
    const r = await me(token);
    expect([r.status, r.body.code]).toEqual([401, 'invalid_token']);
  });

  it('is refused once its signing key is retired by rotations', async () => {
    const { token } = await cachedToken('rotated@example.com');
    await s.t.keys.rotate();
    // still a verification key (previous): the token keeps working
    expect((await me(token)).status).toBe(200);
    await s.t.keys.rotate();
    const r = await me(token);
    expect([r.status, r.body.code]).toEqual([401, 'invalid_token']);
  });

  it('does not lend its signature to a tampered token', async () => {
    const { token } = await cachedToken('tampered@example.com');
    const [h, p, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${sig}`;
    expect((await me(forged)).status).toBe(401);
    expect((await me(token)).status).toBe(200);
  });
});
