import { SUPPORTED_SCOPES } from '../../core/oauth/clients.js';
import { ACR_VALUES } from '../../core/oauth/jwt.js';
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
    authorization_endpoint: `${iss}/oauth/authorize`,
    userinfo_endpoint: `${iss}/oauth/userinfo`,
    end_session_endpoint: `${iss}/oauth/logout`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...SUPPORTED_SCOPES],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid', 'azp', 'at_hash', 'email', 'email_verified'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    acr_values_supported: ACR_VALUES,
    prompt_values_supported: ['none', 'login', 'consent'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    authorization_response_iss_parameter_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
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
    // the access-token keys and the RS256 ID-token keys, each set with its current, next and previous key
    reply.header('Cache-Control', 'public, max-age=300').send({ keys: [...t.keys.jwks().keys, ...t.oauth.jwks()] }),
  );
}
