import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../../src/http/pages/html.js';
import { PAGE_CSP } from '../../src/http/pages/layout.js';
import { startServer, type TestServer } from '../support/server.js';

const PASSWORD = 'correct horse battery staple';

describe('html template', () => {
  it('escapes every interpolated string, nested arrays included, but not Html values', () => {
    const evil = `<script>alert("x")</script>' onmouseover='x' \``;
    const out = html`<p title="${evil}">${[evil, html`<b>${evil}</b>`]}</p>`.value;
    expect(out).not.toContain('<script>');
    expect(out).not.toMatch(/'\s*onmouseover=/);
    expect(out).toContain('<b>&lt;script&gt;');
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
  });
});

describe('pages', () => {
  let s: TestServer;
  let cookie: string;
  let adminCookie: string;
  let lastSid = '';

  const login = async (email: string) => {
    const res = await s.app.inject({ method: 'POST', url: '/v1/login', payload: { email, password: PASSWORD, transport: 'cookie' } });
    expect(res.statusCode).toBe(200);
    lastSid = res.json<{ session_id: string }>().session_id;
    return res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  };

  beforeAll(async () => {
    s = await startServer();
    await s.t.accounts.register({ email: 'pat@example.com', password: PASSWORD });
    await s.t.accounts.register({ email: 'root@example.com', password: PASSWORD, isAdmin: true });
    cookie = await login('pat@example.com');
    adminCookie = await login('root@example.com');
  });
  afterAll(async () => s?.close());

  it('serves every public page as HTML with the strict CSP and no inline script or style', async () => {
    for (const url of ['/sign-in', '/sign-up', '/forgot-password', '/reset-password?token=abc', '/verify-email?token=abc']) {
      const res = await s.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toBe(PAGE_CSP);
      expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
      expect(res.body).not.toMatch(/\sstyle=|<style/);
      expect(res.body).toMatch(/<button type="submit"/);
    }
  });

  it('forms use the JSON API field names', async () => {
    const signIn = (await s.app.inject({ url: '/sign-in' })).body;
    expect(signIn).toContain('name="email"');
    expect(signIn).toContain('name="password"');
    expect(signIn).toContain('name="code"');
    expect((await s.app.inject({ url: '/reset-password?token=t.1' })).body).toContain('name="new_password"');
  });

  it('the verification token is echoed escaped, and the page asks for a click (a mail scanner fetching the link confirms nothing)', async () => {
    const res = await s.app.inject({ url: `/verify-email?token=${encodeURIComponent('"><script>alert(1)</script>')}` });
    expect(res.body).not.toContain('<script>alert(1)');
    expect(res.body).toContain('value="&quot;&gt;&lt;script&gt;');
    expect(res.body).toContain('data-form="verify-email"');
  });

  it('the reset token is echoed escaped, never as markup', async () => {
    const res = await s.app.inject({ url: `/reset-password?token=${encodeURIComponent('"><script>alert(1)</script>')}` });
    expect(res.body).not.toContain('<script>alert(1)');
    expect(res.body).toContain('value="&quot;&gt;&lt;script&gt;');
  });

  it('a signed-out visit to an account page redirects to /sign-in; / picks the right place', async () => {
    for (const url of ['/account', '/account/sessions', '/account/events', '/admin']) {
      const res = await s.app.inject({ url });
      expect(res.statusCode, url).toBe(302);
      expect(res.headers.location).toMatch(/^\/sign-in\?next=/);
    }
    expect((await s.app.inject({ url: '/' })).headers.location).toBe('/sign-in');
    expect((await s.app.inject({ url: '/', headers: { cookie } })).headers.location).toBe('/account');
  });

  it('with only the CSRF cookie left (access cookie expired), serves the resuming page instead', async () => {
    const csrfOnly = cookie.split('; ').filter((c) => c.startsWith('__Host-tessera_csrf=')).join('; ');
    const res = await s.app.inject({ url: '/account/sessions', headers: { cookie: csrfOnly } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-page="resume"');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('renders the account pages for a signed-in user, with the seconds left on the access token', async () => {
    const account = await s.app.inject({ url: '/account', headers: { cookie } });
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('pat@example.com');
    expect(account.body).toMatch(/data-expires-in="\d+"/);
    expect(account.headers['cache-control']).toBe('no-store');
    const sessions = await s.app.inject({ url: '/account/sessions', headers: { cookie } });
    expect(sessions.body).toContain('This device');
    const events = await s.app.inject({ url: '/account/events', headers: { cookie } });
    expect(events.body).toContain('Signed in');
  });

  it('a revoked session no longer sees account pages', async () => {
    const c = await login('pat@example.com');
    await s.t.sessions.revoke(lastSid, 'test');
    const res = await s.app.inject({ url: '/account', headers: { cookie: c } });
    expect(res.body).not.toContain('pat@example.com');
  });

  it('/admin is for admins only', async () => {
    expect((await s.app.inject({ url: '/admin', headers: { cookie } })).statusCode).toBe(403);
    const res = await s.app.inject({ url: '/admin?user=pat%40example.com', headers: { cookie: adminCookie } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-admin-action="revoke-sessions"');
  });

  it('event data is escaped in the admin timeline (stored XSS through a user agent or place)', async () => {
    const user = await s.t.store.getUserByEmail('pat@example.com');
    await s.t.events.record({
      type: 'impossible_travel',
      userId: user!.id,
      ip: '81.2.69.160',
      data: { from: { city: '<img src=x onerror=alert(1)>', country: 'GB' }, to: { city: 'Mountain View', country: 'US' }, km: 8612, minutes: 5, kmh: 103344, user_agent: '<script>x</script>' },
    });
    const res = await s.app.inject({ url: '/admin?type=impossible_travel', headers: { cookie: adminCookie } });
    expect(res.body).not.toContain('<img src=x');
    expect(res.body).toContain('&lt;img src=x onerror=alert(1)&gt;, GB');
    expect(res.body).toContain('Mountain View, US');
    expect(res.body).toContain('8,612 km in 5 min');
  });

  it('serves the client module and stylesheet from /static/', async () => {
    const js = await s.app.inject({ url: '/static/tessera-client.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.body).not.toMatch(/localStorage\.setItem|sessionStorage\.setItem/);
    expect((await s.app.inject({ url: '/static/tessera.css' })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/static/../src/config.ts' })).statusCode).toBe(404);
  });
});
