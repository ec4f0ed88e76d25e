/** `GET|POST /v1/admin/clients`, `DELETE /v1/admin/clients/{id}`: the CLI's client registry, for admins. */
import { TesseraError } from '../../core/errors.js';
import { RegistrationError } from '../../core/oauth/clients.js';
import type { ClientSummary } from '../../core/oauth/service.js';
import type { TesseraServices } from '../../tessera.js';
import type { HttpAuth } from '../auth.js';
import type { ZodApp } from '../schemas/common.js';
import { createClientSchema, deleteClientSchema, listClientsSchema } from '../schemas/clients.js';
import { adminGuard } from './admin.js';

export const clientJson = (c: ClientSummary) => ({
  client_id: c.id,
  name: c.name,
  type: c.type,
  redirect_uris: c.redirectUris,
  post_logout_redirect_uris: c.postLogoutRedirectUris,
  backchannel_logout_uri: c.backchannelLogoutUri,
  first_party: c.firstParty,
  scope: c.scopes.join(' '),
  audience: c.audience,
  created_at: new Date(c.createdAt).toISOString(),
});

export function clientRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const admin = adminGuard(t, auth);

  app.get('/v1/admin/clients', { ...admin, schema: listClientsSchema }, async () => (await t.oauth.listClients()).map(clientJson));

  app.post('/v1/admin/clients', { ...admin, schema: createClientSchema }, async (request, reply) => {
    const b = request.body;
    let created: { clientId: string; secret: string | undefined };
    try {
      created = await t.oauth.createClient({
        name: b.name,
        type: b.type ?? 'resource',
        redirectUris: b.redirect_uris ?? [],
        postLogoutRedirectUris: b.post_logout_redirect_uris ?? [],
        backchannelLogoutUri: b.backchannel_logout_uri,
        firstParty: b.first_party ?? false,
        scope: b.scope,
        audience: b.audience,
      });
    } catch (err) {
      // a registration the rules refuse (validateClient): the message names what is wrong, and is ours
      if (err instanceof RegistrationError) throw new TesseraError('invalid_request', { detail: err.message });
      throw err;
    }
    return reply.code(201).send({ client_id: created.clientId, ...(created.secret !== undefined ? { client_secret: created.secret } : {}) });
  });

  app.delete('/v1/admin/clients/:id', { ...admin, schema: deleteClientSchema }, async (request, reply) => {
    if (!(await t.oauth.deleteClient(request.params.id))) throw new TesseraError('not_found');
    return reply.code(204).send();
  });
}
