/**
 * Issue 11 acceptance: `tessera serve` on MariaDB (`TESSERA_DATABASE_URL=mysql://…`), as users run it — two
 * server processes sharing one database, the example notes API protected by the SDK. Sign-up, sign-in,
 * refresh with reuse detection, TOTP, and revocation seen by the API and by the other node.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../packages/server/test/support/cli.js';
import { waitFor } from '../../packages/server/test/support/child.js';
import { spawnNotesApi, spawnServer, type ApiProcess, type ServerProcess } from '../../packages/server/test/support/process.js';
import { freePort, http } from '../../packages/server/test/support/server.js';
import { MYSQL_URL, hasMysql } from '../../packages/server/test/support/services.js';
import { dropMysqlDatabases, freshMysqlDatabase } from '../../packages/server/test/support/store-fixtures.js';
import { signUp } from '../../packages/server/test/support/users.js';

const PASSWORD = 'correct horse battery staple';
const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

describe.skipIf(!hasMysql)('tessera serve on MariaDB: two nodes, one database, the example API', () => {
  const database = freshMysqlDatabase();
  let dir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let api: ApiProcess;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tessera-mariadb-'));
    const portA = await freePort();
    const env = {
      TESSERA_DATA_DIR: dir,
      TESSERA_DATABASE_URL: `${MYSQL_URL}/${database}`,
      // one issuer for both nodes, as behind a load balancer
      TESSERA_ISSUER: `http://localhost:${portA}`,
      TESSERA_RATE_LIMIT_PER_SECOND: '10000',
    };
    // `tessera migrate` first, as a deployment does (DDL on MariaDB is slow on a loaded machine)
    expect((await runCli(['migrate'], env)).code).toBe(0);
    a = await spawnServer(env, portA);
    b = await spawnServer(env);
    const client = await runCli(['clients', 'create', '--name', 'notes', '--json'], env);
    expect(client.code).toBe(0);
    const { client_id, client_secret } = JSON.parse(client.stdout) as { client_id: string; client_secret: string };
    api = await spawnNotesApi({ TESSERA_ISSUER: env.TESSERA_ISSUER, TESSERA_CLIENT_ID: client_id, TESSERA_CLIENT_SECRET: client_secret });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), a?.stop(), b?.stop()]);
    await dropMysqlDatabases([database]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  /** signs up on node A and signs in on node B */
  const signUpAndIn = async (userAgent = 'client-A') => {
    const email = `maria${++n}@example.com`;
    await signUp(a, email, PASSWORD);
    const l = await http(b.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: { 'user-agent': userAgent } });
    expect(l.status).toBe(200);
    return { ...(l.body as { access_token: string; refresh_token: string; session_id: string }), email };
  };
  const notes = (token: string) => http(api.url, 'GET', '/notes', { headers: bearer(token) });

  it('a user signed up on one node signs in on the other; both publish one JWKS and accept each other’s tokens', async () => {
    const u = await signUpAndIn();
    expect((await http(a.url, 'GET', '/v1/me', { headers: bearer(u.access_token) })).body.email).toBe(u.email);
    const [ja, jb] = await Promise.all([http(a.url, 'GET', '/.well-known/jwks.json'), http(b.url, 'GET', '/.well-known/jwks.json')]);
    expect(ja.status).toBe(200);
    expect(jb.body).toEqual(ja.body);
    expect((await notes(u.access_token)).status).toBe(200);
  });

  it('refresh on one node; the old token replayed on the other by another client revokes the family', async () => {
    const u = await signUpAndIn();
    const r1 = await http(a.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: u.refresh_token }, headers: { 'user-agent': 'client-A' } });
    expect(r1.status).toBe(200);
    expect((await http(b.url, 'GET', '/v1/me', { headers: bearer(r1.body.access_token as string) })).status).toBe(200);
    const replay = await http(b.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: u.refresh_token }, headers: { 'user-agent': 'attacker' } });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('refresh_token_reused');
    expect((await http(a.url, 'GET', '/v1/me', { headers: bearer(r1.body.access_token as string) })).status).toBe(401);
    expect((await http(a.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token } })).status).toBe(400);
  });

  it('TOTP: enrolled on one node, the second factor on the other, a code accepted once across both', async () => {
    // keep clear of a step boundary: the enrolment uses the previous step's code, sign-in the current one
    if (Date.now() % 30_000 > 27_000) await sleep(30_000 - (Date.now() % 30_000) + 200);
    const u = await signUpAndIn();
    const e = await http(a.url, 'POST', '/v1/mfa/totp', { headers: bearer(u.access_token) });
    expect(e.status).toBe(200);
    const totp = URI.parse(e.body.otpauth_uri as string) as TOTP;
    const v = await http(b.url, 'POST', '/v1/mfa/totp/verify', { json: { code: totp.generate({ timestamp: Date.now() - 30_000 }) }, headers: bearer(u.access_token) });
    expect(v.status).toBe(200);
    const step = await http(b.url, 'POST', '/v1/login', { json: { email: u.email, password: PASSWORD } });
    expect(step.body.mfa_required).toBe(true);
    const code = totp.generate();
    const ok = await http(a.url, 'POST', '/v1/login/mfa', { json: { mfa_token: step.body.mfa_token, method: 'totp', code } });
    expect(ok.status).toBe(200);
    expect((await notes(ok.body.access_token as string)).status).toBe(200);
    // the same code on the other node, with a fresh password step: the step is spent in the shared database
    const again = await http(a.url, 'POST', '/v1/login', { json: { email: u.email, password: PASSWORD } });
    const replay = await http(b.url, 'POST', '/v1/login/mfa', { json: { mfa_token: again.body.mfa_token, method: 'totp', code } });
    expect(replay.status).toBe(401);
    // and the spent mfa_token cannot complete a second sign-in
    expect((await http(b.url, 'POST', '/v1/login/mfa', { json: { mfa_token: step.body.mfa_token, method: 'totp', code } })).status).toBe(401);
  });

  it('a sign-out reaches the SDK-protected API within 1 s, and the other node refuses at once', async () => {
    const u = await signUpAndIn();
    expect((await notes(u.access_token)).status).toBe(200);
    const t0 = Date.now();
    expect((await http(a.url, 'POST', '/v1/logout', { headers: bearer(u.access_token) })).status).toBe(204);
    await waitFor('the API to refuse the revoked token', async () => ((await notes(u.access_token)).status === 401 ? true : undefined), 5000, 10);
    expect(Date.now() - t0).toBeLessThan(1000);
    const other = await signUpAndIn();
    expect((await http(b.url, 'DELETE', '/v1/sessions', { headers: bearer(other.access_token) })).status).toBeLessThan(300);
    expect((await http(a.url, 'GET', '/v1/me', { headers: bearer(other.access_token) })).status).toBe(401);
  });
});
