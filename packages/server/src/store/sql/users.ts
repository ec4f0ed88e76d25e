import { sql } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';
import type { UserPage, UserRow, UserStore } from '../ports/users.js';
import { compiledOnce } from './compiled.js';
import { changed, users } from './tables.js';
import type { Db } from './tables.js';

const EMAIL_INDEX = { name: 'users_email_unique', columns: 'users.email' };
/** named, not `*`, as a prepared statement's must be (compiled.ts) */
const USER_COLUMNS = ['id', 'email', 'passwordHash', 'isAdmin', 'passwordResetRequired', 'createdAt', 'emailVerifiedAt', 'legacy', 'disabledAt'] as const satisfies ReadonlyArray<keyof UserRow>;

/** the page cursor: the (createdAt, id) of the last row, opaque to callers */
const encodeCursor = (u: UserRow): string => Buffer.from(JSON.stringify([u.createdAt, u.id])).toString('base64url');

function decodeCursor(cursor: string): [number, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new TypeError('invalid user cursor');
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'number' || typeof parsed[1] !== 'string') throw new TypeError('invalid user cursor');
  return [parsed[0], parsed[1]];
}

/** LIKE with `!` as the escape character (the same on every dialect), so % and _ in a query are literal */
const likePrefix = (q: string): string => `${q.replace(/[!%_]/g, (c) => `!${c}`)}%`;

export class SqlUsers implements UserStore {
  /** every sign-in reads the account by its address: built and compiled once (compiled.ts) */
  readonly #byEmail;

  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {
    this.#byEmail = compiledOnce(['email'], (p: { email: string }) => db.selectFrom('users').select(USER_COLUMNS).where('email', '=', p.email).compile());
  }

  async createUser(row: UserRow): Promise<boolean> {
    try {
      await this.db.insertInto('users').values(users.toRow(row)).execute();
      return true;
    } catch (err) {
      // only a taken email is an answer; any other violation (a duplicate id) is a bug and propagates
      if (this.d.isUniqueViolation(err, EMAIL_INDEX)) return false;
      throw err;
    }
  }

  async getUserById(id: string): Promise<UserRow | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && users.fromRow(r);
  }

  async getUserByEmail(email: string): Promise<UserRow | undefined> {
    const r = (await this.db.executeQuery(this.#byEmail({ email }))).rows[0];
    return r && users.fromRow(r);
  }

  async setPasswordHash(userId: string, hash: string): Promise<void> {
    await this.db.updateTable('users').set({ passwordHash: hash }).where('id', '=', userId).execute();
  }

  async setPasswordResetRequired(userId: string, required: boolean): Promise<void> {
    await this.db.updateTable('users').set({ passwordResetRequired: required ? 1 : 0 }).where('id', '=', userId).execute();
  }

  async markEmailVerified(userId: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('users').set({ emailVerifiedAt: at }).where('id', '=', userId).where('emailVerifiedAt', 'is', null).executeTakeFirst();
    return changed(r);
  }

  async listUsers(q: { query?: string; limit: number; cursor?: string }): Promise<UserPage> {
    let s = this.db.selectFrom('users').selectAll();
    if (q.query !== undefined && q.query !== '') {
      const query = q.query;
      s = s.where((eb) => eb.or([eb('id', '=', query), sql<boolean>`${eb.ref('email')} like ${likePrefix(query)} escape '!'`]));
    }
    if (q.cursor !== undefined) {
      const [createdAt, id] = decodeCursor(q.cursor);
      s = s.where((eb) => eb.or([eb('createdAt', '>', createdAt), eb.and([eb('createdAt', '=', createdAt), eb('id', '>', id)])]));
    }
    const rows = await s.orderBy('createdAt').orderBy('id').limit(q.limit + 1).execute();
    const items = rows.slice(0, q.limit).map((r) => users.fromRow(r));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > q.limit && last !== undefined ? encodeCursor(last) : null };
  }
}
