/** What every call to the Tessera API resolves to: the status and the parsed JSON body (null when none). */
export interface ApiResponse<T = unknown> {
  status: number;
  ok: boolean;
  body: T | null;
  /** seconds to wait, from the `Retry-After` header of a 429 or 503 (absent when the answer had none) */
  retryAfter?: number;
}

/** The fields of a problem+json body the client reads (RFC 9457, with Tessera's stable `code`). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Adds headers to an outgoing request. The CSRF header is one; a proof-of-possession header (DPoP) is
 * another kind that can be plugged in the same way.
 */
export type HeaderSource = (request: { method: string; url: string }) => Record<string, string> | Promise<Record<string, string>>;

export type SignInResult =
  | { status: 'signed-in'; expiresIn: number; response: ApiResponse }
  | { status: 'mfa-required'; mfaToken: string; methods: string[]; response: ApiResponse }
  | { status: 'refused'; response: ApiResponse<Problem> };
