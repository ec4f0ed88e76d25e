import { randomBytes } from 'node:crypto';
import { buildNotesApp } from './app.js';

const port = Number(process.env.EXAMPLE_PORT ?? 4000);
const host = process.env.EXAMPLE_HOST ?? '127.0.0.1';
const issuer = process.env.TESSERA_ISSUER ?? 'http://localhost:3000';
// The URL clients use for this API; DPoP proofs name it. Set EXAMPLE_ORIGIN whenever it is not localhost.
const origin = process.env.EXAMPLE_ORIGIN ?? `http://localhost:${port}`;

const { app, verifier } = await buildNotesApp({
  issuer,
  clientId: process.env.TESSERA_CLIENT_ID,
  clientSecret: process.env.TESSERA_CLIENT_SECRET,
  origin,
  // One instance: a random secret will do; several behind one origin share EXAMPLE_DPOP_NONCE_SECRET.
  dpopNonce: { secret: process.env.EXAMPLE_DPOP_NONCE_SECRET ?? randomBytes(32) },
  ...(process.env.EXAMPLE_MAX_STALENESS ? { maxStalenessSec: Number(process.env.EXAMPLE_MAX_STALENESS) } : {}),
  logger: true,
});
if (!process.env.TESSERA_CLIENT_ID) {
  app.log.warn('TESSERA_CLIENT_ID / TESSERA_CLIENT_SECRET unset: no revocation feed, revoked tokens stay valid until they expire');
}
verifier.ready().catch((err: unknown) => app.log.warn({ err }, 'waiting for Tessera at %s', issuer));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
await app.listen({ port, host });
app.log.info(`example notes API on http://${host}:${port} (public origin ${origin}), trusting ${issuer}`);
