/** The command line's listings on every backend: users by page and query, clients listed and deleted. */
import { afterAll, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { T0, postgresBackend, sqliteMemoryBackend, uid, user } from '../support/store-fixtures.js';

const backends = [sqliteMemoryBackend(), postgresBackend()];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`store listings (${backend.name})`, () => {
    const stores: KyselyStore[] = [];
    const open = async () => {
      const s = await backend.open();
      await s.migrate();
      stores.push(s);
      return s;
    };
    afterAll(async () => {
      for (const s of stores) await s.close();
      await backend.cleanup();
    });

    it('listUsers pages through every user once, ordered by created_at then id', async () => {
      const s = await open();
      // two users share a created_at, so the id breaks the tie
      const rows = [user({ createdAt: T0 + 2 }), user({ createdAt: T0 }), user({ createdAt: T0 + 1 }), user({ createdAt: T0 + 1 }), user({ createdAt: T0 + 3 })];
      for (const r of rows) await s.createUser(r);
      const expected = [...rows].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((r) => r.id);

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await s.listUsers({ limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((u) => u.id));
        pages++;
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(expected);
      expect(pages).toBe(3);
      const all = await s.listUsers({ limit: 5 });
      expect(all.nextCursor).toBeNull();
      expect(all.items[0]).toEqual(rows[1]);
    });

    it('listUsers matches an email prefix (case-folded, wildcards taken literally) or an exact id', async () => {
      const s = await open();
      const ada = user({ email: 'ada@example.com' });
      const adam = user({ email: 'adam@example.org', createdAt: T0 + 1 });
      const pct = user({ email: 'a%b_c@example.com', createdAt: T0 + 2 });
      for (const r of [ada, adam, pct]) await s.createUser(r);
      const emails = async (query: string) => (await s.listUsers({ query, limit: 10 })).items.map((u) => u.email);
      expect(await emails('ada')).toEqual(['ada@example.com', 'adam@example.org']);
      expect(await emails('ADA@')).toEqual(['ada@example.com']);
      expect(await emails('a%')).toEqual(['a%b_c@example.com']);
      expect(await emails('a_')).toEqual([]);
      expect(await emails(adam.id)).toEqual(['adam@example.org']);
      expect(await emails(adam.id.slice(0, 6))).toEqual([]);
    });

    it('listUsers refuses a cursor it did not make', async () => {
      const s = await open();
      await expect(s.listUsers({ limit: 1, cursor: 'not-a-cursor' })).rejects.toThrow(TypeError);
    });

    it('listClients lists in creation order; deleteClient removes one, once', async () => {
      const s = await open();
      const a = { id: uid('rs'), name: 'notes', secretHash: 'h1', createdAt: T0 + 1 };
      const b = { id: uid('rs'), name: 'billing', secretHash: 'h2', createdAt: T0 };
      await s.createClient(a);
      await s.createClient(b);
      expect(await s.listClients()).toEqual([b, a]);
      expect(await s.deleteClient(a.id)).toBe(true);
      expect(await s.deleteClient(a.id)).toBe(false);
      expect(await s.getClient(a.id)).toBeUndefined();
      expect(await s.listClients()).toEqual([b]);
    });
  });
}
