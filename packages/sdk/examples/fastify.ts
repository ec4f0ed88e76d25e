/** A Fastify API protected by Tessera (type-checked with the repository; see README.md). */
import Fastify from 'fastify';
import { requireAuth, requireRole, requireScope, tesseraAuth } from '@tessera/sdk/fastify';

const app = Fastify();
await app.register(tesseraAuth, {
  issuer: 'https://auth.example.com',
  clientId: process.env.TESSERA_CLIENT_ID, // `tessera clients create --name notes-api`: the revocation feed
  clientSecret: process.env.TESSERA_CLIENT_SECRET,
  origin: 'https://api.example.com', // this API's public origin: the DPoP `htu` base
});

app.get('/notes', { preHandler: requireAuth }, async (request) => ({ owner: request.auth?.sub }));
app.post('/notes', { preHandler: requireScope('notes:write') }, async () => ({ created: true }));
app.delete('/users/:id', { preHandler: requireRole('admin') }, async () => ({ deleted: true }));

app.addHook('onClose', async () => app.tessera.verifier.close());
await app.listen({ port: 4000 });
