/**
 * Every refusal carries a stable `code` (mapped to HTTP by the framework adapters) and an internal `reason`
 * (e.g. `ERR_JWT_EXPIRED`, `alg_not_allowed`, `duplicate_key`) for logs and the risk engine. The reason never
 * reaches a client: it would tell an attacker which check to work around.
 */
export type TesseraTokenErrorCode =
  | 'invalid_token'
  | 'token_revoked'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'revocation_feed_stale'
  | 'insufficient_scope';

export class TesseraTokenError extends Error {
  readonly code: TesseraTokenErrorCode;
  readonly reason: string;

  constructor(code: TesseraTokenErrorCode, reason: string) {
    super(`${code}: ${reason}`);
    this.name = 'TesseraTokenError';
    this.code = code;
    this.reason = reason;
  }
}

export function isTesseraTokenError(err: unknown): err is TesseraTokenError {
  return err instanceof TesseraTokenError;
}
