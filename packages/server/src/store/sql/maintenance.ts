import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';
import { migrateToLatest } from '../migrations.js';
import type { DialectName, MaintenanceStore } from '../ports/maintenance.js';
import type { Db } from './tables.js';

export class SqlMaintenance implements MaintenanceStore {
  readonly dialect: DialectName;

  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {
    this.dialect = d.name;
  }

  async migrate(): Promise<void> {
    // the migrations speak snake_case DDL: without the CamelCasePlugin
    await migrateToLatest(this.db.withoutPlugins() as unknown as Kysely<unknown>, this.d);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async pruneExpired(before: number): Promise<number> {
    const a = await this.db.deleteFrom('mfaChallenges').where('expiresAt', '<', before).executeTakeFirst();
    const b = await this.db.deleteFrom('passwordResets').where('expiresAt', '<', before).executeTakeFirst();
    const c = await this.db.deleteFrom('emailVerifications').where('expiresAt', '<', before).executeTakeFirst();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows) + Number(c.numDeletedRows);
  }

  isUnavailable(err: unknown): boolean {
    return this.d.isUnavailable(err);
  }
}
