import type { TesseraServices } from '../../tessera.js';
import type { ZodApp } from '../schemas/common.js';
import { jwksSchema, oauthMetadataSchema, openidConfigurationSchema } from '../schemas/discovery.js';

export function discoveryRoutes(app: ZodApp, t: TesseraServices): void {
  const iss = t.config.issuer;
  const metadata = {
    issuer: iss,
    jwks_uri: `${iss}/.well-known/jwks.json`,
    token_endpoint: `${iss}/v1/token`,
    revocation_endpoint: `${iss}/oauth/revoke`,
    introspection_endpoint: `${iss}/oauth/introspect`,
    grant_types_supported: ['refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    revocation_endpoint_auth_methods_supported: ['none'],
    dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
    // Tessera extensions: where resource servers follow revocations.
    revocation_feed_endpoint: `${iss}/v1/revocations`,
    revocation_stream_endpoint: `${iss}/v1/revocations/stream`,
    access_token_signing_alg_values_supported: [t.config.TESSERA_SIGNING_ALG],
  };
  app.get('/.well-known/oauth-authorization-server', { schema: oauthMetadataSchema }, async (_req, reply) =>
    reply.header('Cache-Control', 'public, max-age=3600').send(metadata),
  );
  app.get('/.well-known/openid-configuration', { schema: openidConfigurationSchema }, async (_req, reply) =>
    reply.header('Cache-Control', 'public, max-age=3600').send(metadata),
  );
  // A short max-age: a verifier that cached the set still learns of a rotation's new key quickly, and the
  // `next` key is published one rotation ahead so caches already hold it when it becomes current.
  app.get('/.well-known/jwks.json', { schema: jwksSchema }, async (_req, reply) =>
    reply.header('Cache-Control', 'public, max-age=300').send(t.keys.jwks()),
  );
}
