/**
 * Issue acceptance for the SDK: the Tessera server and the example notes API run as separate processes,
 * as users run them; revocations reach the API within a second, a restart of the server is caught up,
 * a silent feed fails closed and recovers, and a key rotation needs no restart of the API.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../packages/server/test/support/cli.js';
import { waitFor } from '../../packages/server/test/support/child.js';
import { spawnNotesApi, spawnServer, type ApiProcess, type ServerProcess } from '../../packages/server/test/support/process.js';
import { freePort, http } from '../../packages/server/test/support/server.js';
import { signUp } from '../../packages/server/test/support/users.js';

const PASSWORD = 'correct horse battery staple';

describe('example notes API with @tessera/sdk against a running Tessera', () => {
  let dir: string;
  let server: ServerProcess;
  let serverPort: number;
  let serverEnv: Record<string, string>;
  let api: ApiProcess;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tessera-notes-'));
    serverPort = await freePort();
    serverEnv = { TESSERA_DATA_DIR: dir, TESSERA_KEY_RELOAD_INTERVAL: '1', TESSERA_RATE_LIMIT_PER_SECOND: '10000' };
    server = await spawnServer(serverEnv, serverPort);
    const client = await runCli(['clients', 'create', '--name', 'notes', '--json'], { TESSERA_DATA_DIR: dir });
    const { client_id, client_secret } = JSON.parse(client.stdout) as { client_id: string; client_secret: string };
    api = await spawnNotesApi({
      TESSERA_ISSUER: `http://localhost:${serverPort}`,
      TESSERA_CLIENT_ID: client_id,
      TESSERA_CLIENT_SECRET: client_secret,
      EXAMPLE_MAX_STALENESS: '4',
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), server?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  const signIn = async () => {
    const email = `notes${++n}@example.com`;
    await signUp(server, email, PASSWORD);
    const l = await http(server.url, 'POST', '/v1/login', { json: { email, password: PASSWORD } });
    expect(l.status).toBe(200);
    return { ...(l.body as { access_token: string; session_id: string; refresh_token: string }), email };
  };
  const notes = (token: string) => http(api.url, 'GET', '/notes', { headers: { authorization: `Bearer ${token}` } });

  /** Revoke, then measure how long until the API refuses the token (it must be under one second). */
  const refusedWithin = async (token: string, revoke: () => Promise<unknown>) => {
    expect((await notes(token)).status).toBe(200);
    const t0 = Date.now();
    await revoke();
    await waitFor('the API to refuse the revoked token', async () => ((await notes(token)).status === 401 ? true : undefined), 5000, 10);
    return Date.now() - t0;
  };

  it('a signed-in user reads their notes; anonymous and forged requests are refused', async () => {
    const u = await signIn();
    const r = await notes(u.access_token);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ notes: [] });
    expect((await http(api.url, 'POST', '/notes', { json: { text: 'hello' }, headers: { authorization: `Bearer ${u.access_token}` } })).status).toBe(201);
    expect((await notes(u.access_token)).body.notes).toHaveLength(1);
    const anon = await http(api.url, 'GET', '/notes');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect((await notes(`${u.access_token.slice(0, -4)}AAAA`)).status).toBe(401);
  });

  it('refuses a revoked session, sign-out-everywhere and a password change within 1 s', async () => {
    const a = await signIn();
    const ms1 = await refusedWithin(a.access_token, () => http(server.url, 'DELETE', `/v1/sessions/${a.session_id}`, { headers: { authorization: `Bearer ${a.access_token}` } }));
    const b = await signIn();
    const ms2 = await refusedWithin(b.access_token, () => http(server.url, 'DELETE', '/v1/sessions', { headers: { authorization: `Bearer ${b.access_token}` } }));
    const c = await signIn();
    const c2 = (await http(server.url, 'POST', '/v1/login', { json: { email: c.email, password: PASSWORD } })).body as { access_token: string };
    const ms3 = await refusedWithin(c.access_token, () =>
      http(server.url, 'POST', '/v1/password/change', { json: { current_password: PASSWORD, new_password: 'an entirely new passphrase' }, headers: { authorization: `Bearer ${c2.access_token}` } }),
    );
    expect((await notes(c2.access_token)).status).toBe(200); // the session that changed the password stays
    for (const ms of [ms1, ms2, ms3]) expect(ms).toBeLessThan(1000);
  });

  it('after a server restart the SDK reconnects, catches up with `since`, and never accepts a revoked token', async () => {
    const keep = await signIn();
    const victim = await signIn();
    await server.stop();
    server = await spawnServer(serverEnv, serverPort);
    // Revoke at once, before the SDK's feed has reconnected: it must learn of it by catching up.
    await http(server.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${victim.access_token}` } });
    await waitFor('the API to refuse the token revoked during the reconnect', async () => ((await notes(victim.access_token)).status === 401 ? true : undefined), 10_000);
    for (let i = 0; i < 20; i++) expect((await notes(victim.access_token)).status).toBe(401);
    expect((await notes(keep.access_token)).status).toBe(200);
  });

  it('fails closed with 503 revocation_feed_stale when the feed is silent, and recovers', async () => {
    const u = await signIn();
    await server.stop();
    const stale = await waitFor('503 from a stale feed', async () => {
      const r = await notes(u.access_token);
      return r.status === 503 ? r : undefined;
    }, 15_000, 200);
    expect(stale.body.code).toBe('revocation_feed_stale');
    expect((await fetch(`${api.url}/healthz`)).status).toBe(503);
    server = await spawnServer(serverEnv, serverPort);
    await waitFor('recovery', async () => ((await notes(u.access_token)).status === 200 ? true : undefined), 15_000, 100);
  });

  it('after `tessera keys rotate`, new tokens (new kid) verify at the API without a restart', async () => {
    // The previous test leaves the feed just recovered; on a loaded machine its next heartbeat can be late.
    // What this test judges is the key change, so it starts from a healthy API.
    await waitFor('the notes API to be healthy', async () => ((await fetch(`${api.url}/healthz`)).ok ? true : undefined), 15_000, 100);
    const before = await signIn();
    const rotated = await runCli(['keys', 'rotate'], { TESSERA_DATA_DIR: dir });
    expect(rotated.code).toBe(0);
    const oldKid = decodeProtectedHeader(before.access_token).kid;
    const after = await waitFor('a token signed with the new key', async () => {
      const u = await signIn();
      return decodeProtectedHeader(u.access_token).kid !== oldKid ? u : undefined;
    }, 10_000, 200);
    // An unknown kid makes the SDK refetch the JWKS at most once per 10 s (minRefetchIntervalMs), so a JWKS
    // fetched just before the rotation can delay the new key by up to that interval — never a restart.
    const seen = await waitFor('the API to accept the new key', async () => {
      const res = await notes(after.access_token);
      return res.status === 200 ? res : undefined;
    }, 15_000, 250).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; last answer ${JSON.stringify((await notes(after.access_token)).body)}`);
    });
    expect(seen.status).toBe(200);
    const old = await notes(before.access_token);
    expect(old.status, JSON.stringify(old.body)).toBe(200);
  });
});
