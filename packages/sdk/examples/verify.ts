/** The plain verifier, without a framework (type-checked with the repository; see README.md). */
import { createVerifier, isTesseraTokenError } from '@tessera/sdk';

const verifier = createVerifier({
  issuer: 'https://auth.example.com',
  clientId: process.env.TESSERA_CLIENT_ID,
  clientSecret: process.env.TESSERA_CLIENT_SECRET,
});
await verifier.ready(); // keys fetched and, with client credentials, the revocation feed connected

/** The caller's user id, or the HTTP status and problem `code` to answer with. */
export async function authenticate(authorization: string | undefined): Promise<{ sub: string } | { status: number; code: string }> {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
  if (token === undefined) return { status: 401, code: 'invalid_token' };
  try {
    const claims = await verifier.verify(token, { scheme: 'bearer' });
    return { sub: claims.sub };
  } catch (err) {
    if (!isTesseraTokenError(err)) throw err;
    const status = err.code === 'revocation_feed_stale' ? 503 : err.code === 'insufficient_scope' ? 403 : 401;
    return { status, code: err.code };
  }
}
