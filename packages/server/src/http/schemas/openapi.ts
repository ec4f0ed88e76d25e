import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { GEO_ATTRIBUTION } from '../../geo/mmdb.js';
import type { TesseraServices } from '../../tessera.js';
import { cookieNames } from '../cookies.js';

/**
 * The Swagger UI at /docs runs its own bundled script and styles from /docs/static/ only. Nothing else may
 * load or run there, so a script injected into the page (say through a crafted spec URL) has nowhere to
 * send what it reads and no inline code to hide in. The UI needs inline styles and `data:` images.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** /openapi.json (OpenAPI 3.1, generated from the zod route schemas) and the UI at /docs. */
export async function registerOpenApi(app: FastifyInstance, t: TesseraServices): Promise<void> {
  const names = cookieNames(t.config.TESSERA_COOKIE_SECURE);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '0.1.0',
        description: `Authentication server: short-lived signed access tokens, rotating refresh tokens, MFA, revocation.\n\nErrors are RFC 9457 problem documents (\`application/problem+json\`) with a stable \`code\`.\n\n${GEO_ATTRIBUTION}`,
      },
      servers: [{ url: t.config.issuer }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token as `Authorization: Bearer <token>`.' },
          dpop: {
            type: 'http',
            scheme: 'DPoP',
            description: 'A DPoP-bound access token as `Authorization: DPoP <token>`, with a fresh proof from its key in the `DPoP` header (RFC 9449).',
          },
          accessCookie: { type: 'apiKey', in: 'cookie', name: names.access, description: 'The access cookie set by a cookie-transport sign-in.' },
          refreshCookie: { type: 'apiKey', in: 'cookie', name: names.refresh, description: 'The refresh cookie (sent to /v1/token only).' },
          csrfHeader: {
            type: 'apiKey',
            in: 'header',
            name: 'X-CSRF-Token',
            description: `Cookie mode, unsafe methods: the value of the \`${names.csrf}\` cookie, which is bound to the session.`,
          },
          clientBasic: { type: 'http', scheme: 'basic', description: 'Resource-server client credentials from `tessera clients create`.' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: DOCS_CSP, // set on every /docs response (the plugin's own hook, scoped to its routes)
  });
}
