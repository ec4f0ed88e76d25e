/** An Express API protected by Tessera (type-checked with the repository; see README.md). */
import express from 'express';
import { tesseraAuth } from '@tessera/sdk/express';

const tessera = tesseraAuth({
  issuer: 'https://auth.example.com',
  clientId: process.env.TESSERA_CLIENT_ID,
  clientSecret: process.env.TESSERA_CLIENT_SECRET,
  origin: 'https://api.example.com',
});

const app = express();
app.get('/notes', tessera.requireAuth, (req, res) => {
  // the middleware set `auth` on the request: the verified claims
  res.json({ owner: (req as typeof req & { auth?: { sub: string } }).auth?.sub });
});
app.delete('/users/:id', tessera.requireRole('admin'), (_req, res) => {
  res.status(204).end();
});

const server = app.listen(4000);
process.once('SIGTERM', () => {
  server.close();
  void tessera.verifier.close();
});
