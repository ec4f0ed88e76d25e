import { z } from 'zod';
import { op } from './common.js';

const Metadata = z
  .object({
    issuer: z.string(),
    jwks_uri: z.string(),
    token_endpoint: z.string(),
    revocation_endpoint: z.string(),
    introspection_endpoint: z.string(),
    grant_types_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    introspection_endpoint_auth_methods_supported: z.array(z.string()),
    revocation_endpoint_auth_methods_supported: z.array(z.string()),
    dpop_signing_alg_values_supported: z.array(z.string()),
    revocation_feed_endpoint: z.string().describe('Tessera extension: the revocation feed'),
    revocation_stream_endpoint: z.string().describe('Tessera extension: the same feed as server-sent events'),
    access_token_signing_alg_values_supported: z.array(z.string()),
  })
  .describe('Authorization-server metadata (RFC 8414)');

export const oauthMetadataSchema = op({
  summary: 'Authorization-server metadata (RFC 8414)',
  tags: ['discovery'],
  response: { 200: Metadata },
  errors: [],
});

export const openidConfigurationSchema = op({
  summary: 'The same metadata at the OpenID Connect discovery path',
  tags: ['discovery'],
  response: { 200: Metadata },
  errors: [],
});

export const jwksSchema = op({
  summary: 'Public signing keys (current, next and previous)',
  tags: ['discovery'],
  response: {
    200: z
      .object({ keys: z.array(z.looseObject({ kty: z.string().optional(), kid: z.string().optional(), alg: z.string().optional(), use: z.string().optional() }).describe('a public JWK; every key here has `kty`, `kid`, `alg` and `use: "sig"`')) })
      .describe('A JSON Web Key Set (RFC 7517)'),
  },
  errors: [],
});
