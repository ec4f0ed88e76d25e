import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../../lib/clock.js';
import { newOpaqueToken, parseOpaqueToken, safeEqual, sha256 } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { EventLog } from '../events.js';
import { limitOrThrow } from '../limits.js';
import type { RequestContext, Transport } from '../sessions/types.js';
import type { SharedState } from '../../state/types.js';
import type { ChallengeStore, MfaChallengeRow, UserRow, UserStore } from '../../store/ports/index.js';
import { MFA_ACCOUNT_ATTEMPTS, MFA_TOKEN_MAX_ATTEMPTS, MFA_TOKEN_TTL_MS } from './budgets.js';

/** The password step's request, stored with the mfa_token: the second step must come from the same client. */
export interface Binding {
  ip: string;
  user_agent: string | null;
  transport: Transport;
  dpop_jkt: string | null;
}

export interface OpenToken {
  row: MfaChallengeRow;
  user: UserRow;
  binding: Binding;
}

export interface MfaTokenDeps {
  challenges: ChallengeStore;
  users: Pick<UserStore, 'getUserById'>;
  state: Pick<SharedState, 'limiter'>;
  events: EventLog;
  clock: Clock;
}

/**
 * The `mfa_token` between the password and the second factor: opaque and single-use (`id.secret`, only
 * SHA-256(secret) stored), bound to the password step's client, with an attempt budget per token and per
 * account. The steps a redemption goes through, in order: open, spend, (the factor's check), fail or consume.
 */
export class MfaTokens {
  private readonly accountLimiter: RateLimiterAbstract;

  constructor(private readonly d: MfaTokenDeps) {
    this.accountLimiter = d.state.limiter({ keyPrefix: 'mfa:account', points: MFA_ACCOUNT_ATTEMPTS, durationSec: 900 });
  }

  async issue(user: UserRow, ctx: RequestContext, transport: Transport): Promise<string> {
    const token = newOpaqueToken();
    const now = this.d.clock.now();
    const binding: Binding = { ip: ctx.ip, user_agent: ctx.userAgent, transport, dpop_jkt: ctx.dpopJkt ?? null };
    await this.d.challenges.insertMfaChallenge({
      id: token.id,
      userId: user.id,
      secretHash: token.hash,
      kind: 'mfa',
      challenge: null,
      failures: 0,
      createdAt: now,
      expiresAt: now + MFA_TOKEN_TTL_MS,
      usedAt: null,
      context: { ...binding },
    });
    return token.value;
  }

  /** Forged, spent, expired or exhausted tokens are refused; so is a token presented by another client. */
  async open(value: string, ctx: RequestContext): Promise<OpenToken> {
    const parsed = parseOpaqueToken(value);
    const row = parsed ? await this.d.challenges.getMfaChallenge(parsed.id) : undefined;
    // Other challenge rows (WebAuthn ceremonies) share the table; only `mfa` rows are tokens.
    if (!parsed || !row || row.kind !== 'mfa' || !row.userId || !safeEqual(row.secretHash, sha256(parsed.secret))) {
      throw new TesseraError('invalid_mfa_token', { reason: 'unknown mfa_token' });
    }
    if (row.usedAt !== null) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token already used' });
    if (row.expiresAt <= this.d.clock.now()) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token expired' });
    if (row.failures >= MFA_TOKEN_MAX_ATTEMPTS) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token attempt budget spent' });
    const user = await this.d.users.getUserById(row.userId);
    if (!user) throw new TesseraError('invalid_mfa_token', { reason: 'user gone' });
    const binding = row.context as unknown as Binding;
    // A token lifted from the password step's response (a log, a proxy, a phishing page) is useless from
    // another client: same IP, user agent and DPoP key (or none) as the password step, or refused.
    if (binding.ip !== ctx.ip || binding.user_agent !== ctx.userAgent || binding.dpop_jkt !== (ctx.dpopJkt ?? null)) {
      await this.d.events.record({ type: 'mfa_failed', userId: user.id, ip: ctx.ip, data: { reason: 'client_mismatch' } });
      throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token presented by another client' });
    }
    return { row, user, binding };
  }

  /** Reserve one attempt before checking anything, so concurrent guesses cannot overrun either budget. */
  async spend(t: OpenToken): Promise<number> {
    await limitOrThrow(this.accountLimiter, t.user.id);
    const n = await this.d.challenges.incrementMfaFailures(t.row.id);
    if (n > MFA_TOKEN_MAX_ATTEMPTS) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token attempt budget spent' });
    return n;
  }

  async fail(t: OpenToken, method: string, reason: string, attempt: number, ctx: RequestContext): Promise<never> {
    const left = Math.max(0, MFA_TOKEN_MAX_ATTEMPTS - attempt);
    await this.d.events.record({ type: 'mfa_failed', userId: t.user.id, ip: ctx.ip, data: { method, reason, attempts_left: left } });
    throw new TesseraError('invalid_code', {
      detail: left > 0 ? `Wrong, expired or already used code; ${left} attempt(s) left.` : 'Wrong code; sign in again.',
      reason: `${method}: ${reason}`,
    });
  }

  /** Consume once: of two racing correct answers only one goes on to start a session. */
  async consume(t: OpenToken): Promise<void> {
    const consumed = await this.d.challenges.consumeMfaChallenge(t.row.id, this.d.clock.now());
    if (!consumed) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token consumed concurrently' });
    await this.accountLimiter.reward(t.user.id, 1).catch(() => undefined);
  }

  /** The transport chosen at the password step; the second step cannot switch it. */
  async transportOf(value: string): Promise<Transport | undefined> {
    const parsed = parseOpaqueToken(value);
    const row = parsed ? await this.d.challenges.getMfaChallenge(parsed.id) : undefined;
    const tr = row?.kind === 'mfa' ? row.context.transport : undefined;
    return tr === 'cookie' || tr === 'bearer' ? tr : undefined;
  }

  /** Store a freshly sent code on the token's row (it replaces the previous one). */
  setCode(t: OpenToken, challenge: string): Promise<void> {
    return this.d.challenges.setMfaChallengeChallenge(t.row.id, challenge);
  }
}
