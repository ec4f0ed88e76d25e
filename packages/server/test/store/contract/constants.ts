/** Sizes shared by the contract's race tests. */
import { migrationProvider } from '../../../src/store/migrations.js';
import { sqliteDialect } from '../../../src/store/dialects/sqlite.js';

/** parallel callers in a race test */
export const N = 20;
/** parallel refreshes of one token: exactly one may win */
export const REFRESH_RACERS = 50;
export const MIGRATIONS = Object.keys(await migrationProvider(sqliteDialect).getMigrations()).length;
