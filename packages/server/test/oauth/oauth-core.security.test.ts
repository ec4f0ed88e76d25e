/** The provider's core on the real SQLite store: ID-token keys sealed at rest, and client authentication. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/core/crypto.js';
import { authenticateClient, newClient } from '../../src/core/oauth/clients.js';
import { IdTokenKeys } from '../../src/core/oauth/id-token-keys.js';
import { systemClock } from '../../src/lib/clock.js';
import { openStore } from '../../src/store/connect.js';
import type { Store } from '../../src/store/ports/index.js';

let store: Store;
const box = new SecretBox(randomBytes(32));

beforeAll(async () => {
  store = await openStore('sqlite::memory:');
  await store.migrate();
});
afterAll(async () => {
  await store.close();
});

describe('ID-token keys', () => {
  it('two nodes starting at once agree on one current and one next key, and a rotation reaches both', async () => {
    const a = new IdTokenKeys(store, box, systemClock);
    const b = new IdTokenKeys(store, box, systemClock);
    await Promise.all([a.init(), b.init()]);
    expect(a.signingKey().kid).toBe(b.signingKey().kid);
    expect((await store.listIdKeys()).map((k) => k.state).sort()).toEqual(['current', 'next']);
    const before = a.signingKey().kid;
    await a.rotate();
    await b.reload();
    expect(b.signingKey().kid).toBe(a.signingKey().kid);
    expect(a.signingKey().kid).not.toBe(before);
    expect(a.jwks().map((k) => k.kid)).toContain(before);
  });
  it('refuses key material sealed under another key-encryption key', async () => {
    const other = new IdTokenKeys(store, new SecretBox(randomBytes(32)), systemClock);
    await expect(other.reload()).rejects.toThrow();
  });
});

describe('client authentication', () => {
  it('accepts the registered secret only, and a public client without one', async () => {
    const web = newClient({ name: 'w', type: 'web', redirectUris: ['http://localhost:1/cb'], postLogoutRedirectUris: [], firstParty: false }, Date.now());
    const spa = newClient({ name: 's', type: 'spa', redirectUris: ['http://localhost:1/spa'], postLogoutRedirectUris: [], firstParty: false }, Date.now());
    await store.createOAuthClient(web.row);
    await store.createOAuthClient(spa.row);
    const lookup = (id: string) => store.getOAuthClient(id);
    expect(web.secret).toBeDefined();
    expect((await authenticateClient(lookup, { basic: { id: web.row.id, secret: web.secret ?? '' } })).id).toBe(web.row.id);
    // a confidential client's id alone, or a wrong secret, is not authentication
    await expect(authenticateClient(lookup, { bodyId: web.row.id })).rejects.toMatchObject({ code: 'invalid_client' });
    await expect(authenticateClient(lookup, { basic: { id: web.row.id, secret: 'wrong' } })).rejects.toMatchObject({ code: 'invalid_client' });
    await expect(authenticateClient(lookup, { bodyId: 'unknown', bodySecret: 'x' })).rejects.toMatchObject({ code: 'invalid_client' });
    expect((await authenticateClient(lookup, { bodyId: spa.row.id })).id).toBe(spa.row.id);
  });
});
