import { z } from 'zod';
import { op } from './common.js';

const Metadata = z
  .object({
    issuer: z.string(),
    jwks_uri: z.string(),
    token_endpoint: z.string(),
    revocation_endpoint: z.string(),
    introspection_endpoint: z.string(),
    authorization_endpoint: z.string(),
    userinfo_endpoint: z.string(),
    end_session_endpoint: z.string().describe('RP-Initiated Logout 1.0'),
    response_types_supported: z.array(z.string()),
    response_modes_supported: z.array(z.string()),
    grant_types_supported: z.array(z.string()),
    code_challenge_methods_supported: z.array(z.string()),
    scopes_supported: z.array(z.string()),
    claims_supported: z.array(z.string()),
    subject_types_supported: z.array(z.string()),
    id_token_signing_alg_values_supported: z.array(z.string()),
    acr_values_supported: z.array(z.string()),
    prompt_values_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    authorization_response_iss_parameter_supported: z.boolean().describe('RFC 9207: every authorization response carries `iss`'),
    backchannel_logout_supported: z.boolean(),
    backchannel_logout_session_supported: z.boolean(),
    request_parameter_supported: z.boolean(),
    request_uri_parameter_supported: z.boolean(),
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
