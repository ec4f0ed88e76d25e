import { z } from 'zod';
import { AUTH_READ_ERRORS, AUTH_WRITE_ERRORS, IsoTime, NoContent, USER_READ, USER_WRITE, op } from './common.js';

const FORM = ['application/json', 'application/x-www-form-urlencoded'];

export const Userinfo = z
  .object({
    sub: z.string().describe('the user id (the ID token\'s `sub`)'),
    email: z.string().optional().describe('with scope `email`'),
    email_verified: z.boolean().optional().describe('with scope `email`'),
  })
  .describe('OpenID Connect UserInfo claims, per the scopes of the token');

export const userinfoSchema = op({
  summary: 'OpenID Connect UserInfo (an access token from the code flow, Bearer or DPoP)',
  tags: ['oidc'],
  security: [{ bearer: [] }, { dpop: [] }],
  response: { 200: Userinfo },
  errors: [...AUTH_READ_ERRORS, 'forbidden'],
});

export const userinfoPostSchema = op({
  summary: 'OpenID Connect UserInfo, as POST (OIDC Core §5.3.1)',
  tags: ['oidc'],
  consumes: FORM,
  security: [{ bearer: [] }, { dpop: [] }],
  body: z.strictObject({}).optional(),
  response: { 200: Userinfo },
  errors: [...AUTH_READ_ERRORS, 'forbidden'],
});

export const consentSchema = op({
  summary: 'Answer the consent page: allow or deny an app (cookie session only)',
  description:
    'The consent page sends its own authorization request back (`query`, the `/oauth/authorize` query string). The request is checked again; `allow` remembers the consent for this user, client and scopes and issues a code. The answer is where the browser goes next: the app\'s redirect URI with `code` (or `error=access_denied`), `state` and `iss`.',
  tags: ['oidc'],
  security: [{ accessCookie: [], csrfHeader: [] }],
  body: z.strictObject({ query: z.string().max(8192).describe('the authorization request'), decision: z.enum(['allow', 'deny']) }),
  response: { 200: z.object({ redirect_to: z.string().describe('the app\'s redirect URI with the result') }).describe('Where to go next') },
  errors: [...AUTH_WRITE_ERRORS, 'forbidden'],
});

export const App = z.object({ client_id: z.string(), name: z.string(), scope: z.array(z.string()), granted_at: IsoTime }).describe('An app the user allowed');

export const appsSchema = op({
  summary: 'The apps the user allowed (remembered consents)',
  tags: ['account'],
  security: USER_READ,
  response: { 200: z.array(App).describe('Remembered consents, oldest first') },
  errors: AUTH_READ_ERRORS,
});

export const revokeAppSchema = op({
  summary: "Remove an app's access: forget the consent and sign the app's sessions out",
  tags: ['account'],
  security: USER_WRITE,
  params: z.strictObject({ client_id: z.string().max(200) }),
  response: { 204: NoContent('The consent is gone and the app\'s sessions are revoked') },
  errors: [...AUTH_WRITE_ERRORS, 'not_found'],
});
