/**
 * `@tessera/sdk/edge`: the one token policy at the HTTP edge, shared by the SDK's framework adapters and
 * Tessera's own routes. How a request presents its access token (and what is refused as ambiguous), the DPoP
 * binding rules, the table of token errors, and the problem documents and challenges they are answered with.
 * Framework-free; it performs no I/O.
 */
export { TesseraTokenError, isTesseraTokenError } from '../errors.js';
export type { TesseraTokenErrorCode } from '../errors.js';
export { DEFAULT_DPOP_ALGORITHMS } from '../dpop.js';
export { TOKEN_ERRORS, CsrfRefusal } from './errors.js';
export type { EdgeErrorCode, ErrorDescription, TokenChallenge } from './errors.js';
export { credentialHeaders, credentialHeadersOf, cookieValues } from './headers.js';
export type { CredentialHeaders, HeaderBag } from './headers.js';
export {
  ACCESS_TOKEN_COOKIE,
  CSRF_COOKIE,
  DEV_ACCESS_TOKEN_COOKIE,
  DEV_CSRF_COOKIE,
  checkCsrfHeader,
  cookieNamesFor,
  extractCredentials,
  isToken68,
  isUnsafeMethod,
  parseAuthorization,
  parseOrigin,
  requestUrl,
} from './credentials.js';
export type { CredentialPolicy, CredentialScheme, PresentedCredential } from './credentials.js';
export { requiredProofKey, verifyBoundProof } from './binding.js';
export { verifiedTokens } from './verified.js';
export type { VerifiedTokens, VerifiedTokensOptions } from './verified.js';
export { DpopNonces } from './nonce.js';
export type { DpopNonceOptions } from './nonce.js';
export type { ProofCheck } from './binding.js';
export {
  PROBLEM_TYPE_BASE,
  edgeHeaders,
  edgeProblem,
  isEdgeRefusal,
  missingCredentialsProblem,
  problemBody,
  problemFor,
  wwwAuthenticate,
} from './problem.js';
export type { ChallengeOptions, Problem, ProblemBody } from './problem.js';
