import type { SqlDialect } from '../dialects/dialect.js';
import type { EmailVerificationRow, VerificationStore } from '../ports/verifications.js';
import { SingleUseLinks } from './links.js';
import type { Db } from './tables.js';

export class SqlVerifications implements VerificationStore {
  private readonly links: SingleUseLinks<'emailVerifications'>;

  constructor(db: Db, d: SqlDialect) {
    this.links = new SingleUseLinks(db, d, 'emailVerifications');
  }

  insertEmailVerification(row: EmailVerificationRow): Promise<void> {
    return this.links.insert(row);
  }

  getEmailVerification(id: string): Promise<EmailVerificationRow | undefined> {
    return this.links.get(id);
  }

  // consume once: a link clicked twice (or replayed from a forwarded mail) verifies at most once
  consumeEmailVerification(id: string, now: number): Promise<EmailVerificationRow | undefined> {
    return this.links.consume(id, now);
  }
}
