/**
 * Create a user who can sign in, the way a person would: through the HTTP API. Every test that needs an
 * ordinary signed-up account goes through here, so a change to the sign-up flow (verification, …) is made once.
 */
import { expect } from 'vitest';
import { http, type TestServer } from './server.js';

export async function signUp(s: Pick<TestServer, 'url'>, email: string, password: string): Promise<void> {
  const res = await http(s.url, 'POST', '/v1/accounts', { json: { email, password } });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}
