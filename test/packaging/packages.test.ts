/**
 * Issue 13's acceptance, as a user outside this repository would meet the packages: pack every package,
 * install the tarballs into an empty project in the temp folder, and there import the SDK from ESM and
 * CommonJS, type-check a consumer under `node16` and `bundler` resolution, run `npx tessera serve` on
 * SQLite, verify its tokens with the installed SDK, and sign in from Chromium with the installed browser
 * bundle. Also: publint and attw find nothing, and `npm start` hands SIGTERM to the server itself.
 *
 * The tarballs' own dependencies come from the npm cache (`--prefer-offline`); install scripts are skipped
 * and better-sqlite3's native binding is copied from the repository's install (compiling it again takes a
 * minute; its prebuilt download is unreachable here).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launch, watch } from '../../packages/server/test/support/browser.js';
import { freePort } from '../../packages/server/test/support/server.js';
import { mailedToken } from '../../packages/server/test/support/users.js';
import { CONSUMER_CJS, CONSUMER_MJS, CONSUMER_MTS, CONSUMER_TS, BROWSER_TS, tsconfig } from './consumer-files.js';
import { PACKAGES, REPO, cleanEnv, ok, run, staleBuilds, startGroup, waitForHealth } from './support.js';

const PASSWORD = 'correct horse battery staple';

/** A process that exists and is not a zombie. */
function running(pid: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}
const TSC = path.join(REPO, 'node_modules/typescript/bin/tsc');
const ATTW = path.join(REPO, 'node_modules/@arethetypeswrong/cli/dist/index.js');

describe('installable packages', { timeout: 240_000 }, () => {
  let root: string;
  let app: string;
  let tarballs: Record<string, string>;
  let server: ReturnType<typeof startGroup>;
  let base: string;

  beforeAll(async () => {
    // `npm ci` builds everything (the root `prepare`); rebuild here only what changed since.
    if (staleBuilds().length > 0) await ok('npm', ['run', 'build'], { cwd: REPO, timeoutMs: 300_000 });
    root = mkdtempSync(path.join(os.tmpdir(), 'tessera-packaging-'));
    app = path.join(root, 'app');
    mkdirSync(path.join(root, 'tgz'));
    mkdirSync(app);
    await ok('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', path.join(root, 'tgz'), ...PACKAGES.flatMap((p) => ['-w', p])], { cwd: REPO });
    tarballs = Object.fromEntries(readdirSync(path.join(root, 'tgz')).map((f) => [f.replace(/-\d+\.\d+\.\d+\.tgz$/, ''), path.join(root, 'tgz', f)]));

    const sqlite = (JSON.parse(readFileSync(path.join(REPO, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version;
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, overrides: { 'better-sqlite3': sqlite } }));
    await ok('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...Object.values(tarballs), '@types/node@20'], { cwd: app, timeoutMs: 200_000 });
    const binding = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    mkdirSync(path.dirname(path.join(app, binding)), { recursive: true });
    copyFileSync(path.join(REPO, binding), path.join(app, binding));

    const port = await freePort();
    base = `http://localhost:${port}`;
    server = startGroup('npx', ['--no-install', 'tessera', 'serve'], app, cleanEnv({ PORT: String(port), HOST: '127.0.0.1', TESSERA_DATA_DIR: path.join(root, 'data'), TESSERA_LOG_LEVEL: 'warn' }));
    await waitForHealth(base, server.child, server.output);
  }, 420_000);

  afterAll(async () => {
    await server?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('packs the three packages, each with its compiled files and no test or build config', () => {
    expect(Object.keys(tarballs).sort()).toEqual(['tessera', 'tessera-browser', 'tessera-sdk']);
    const installed = (p: string) => readdirSync(path.join(app, 'node_modules', p));
    expect(installed('@tessera/sdk').sort()).toEqual(['README.md', 'dist', 'package.json', 'src']);
    expect(installed('@tessera/browser').sort()).toEqual(['dist', 'package.json', 'src']);
    expect(installed('tessera').sort()).toEqual(['bin', 'dist', 'package.json', 'public', 'src']);
  });

  it('publint and attw report no problem for any package', async () => {
    for (const [name, file] of Object.entries(tarballs)) {
      const buf = readFileSync(file);
      const tarball = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion', strict: true });
      expect(messages.map((m) => formatMessage(m, pkg)), name).toEqual([]);
      // the server and the browser client are ES modules only; the SDK also serves require() and old resolvers
      const profile = name === 'tessera-sdk' ? [] : ['--profile', 'esm-only'];
      const attw = await run(process.execPath, [ATTW, file, '--format', 'ascii', ...profile], { cwd: root });
      expect(attw.code, `${name}: ${attw.stdout}${attw.stderr}`).toBe(0);
    }
  });

  it('node imports the SDK from .mjs and requires it from .cjs, and both verify a token of the running server', async () => {
    await ok('curl', ['-sf', `${base}/v1/accounts`, '-H', 'content-type: application/json', '-d', JSON.stringify({ email: 'ada@example.com', password: PASSWORD })], { cwd: app });
    // the click on the verification link, as in the README: the token from the development outbox
    const token = await mailedToken({ dataDir: path.join(root, 'data') }, 'ada@example.com', 'verify-email');
    await ok('curl', ['-sf', `${base}/v1/email/verify`, '-H', 'content-type: application/json', '-d', JSON.stringify({ token })], { cwd: app });
    const login = JSON.parse(await ok('curl', ['-sf', `${base}/v1/login`, '-H', 'content-type: application/json', '-d', JSON.stringify({ email: 'ada@example.com', password: PASSWORD })], { cwd: app })) as { access_token: string };
    const me = JSON.parse(await ok('curl', ['-sf', `${base}/v1/me`, '-H', `authorization: Bearer ${login.access_token}`], { cwd: app })) as { id: string };
    writeFileSync(path.join(app, 'consumer.mjs'), CONSUMER_MJS);
    writeFileSync(path.join(app, 'consumer.cjs'), CONSUMER_CJS);
    for (const file of ['consumer.mjs', 'consumer.cjs']) {
      const out = JSON.parse(await ok(process.execPath, [file, base, login.access_token], { cwd: app })) as { sub: string; tampered: string };
      expect(out, file).toEqual({ sub: me.id, tampered: expect.stringMatching(/^[a-z_]+$/) });
    }
  });

  it('a TypeScript consumer type-checks under moduleResolution node16 and bundler', async () => {
    writeFileSync(path.join(app, 'consumer.ts'), CONSUMER_TS);
    writeFileSync(path.join(app, 'consumer-esm.mts'), CONSUMER_MTS);
    writeFileSync(path.join(app, 'browser.ts'), BROWSER_TS);
    writeFileSync(path.join(app, 'tsconfig.node16.json'), tsconfig('node16', ['consumer.ts', 'consumer-esm.mts']));
    writeFileSync(path.join(app, 'tsconfig.bundler.json'), tsconfig('bundler', ['consumer.ts', 'consumer-esm.mts', 'browser.ts']));
    for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
      const r = await run(process.execPath, [TSC, '-p', config], { cwd: app });
      expect(r.stdout + r.stderr, config).toBe('');
      expect(r.code).toBe(0);
    }
    // and a type error is caught, so the checks above are not vacuous
    writeFileSync(path.join(app, 'consumer-esm.mts'), `${CONSUMER_MTS}\nexport const wrong: number = createVerifier({ issuer: 'x' });\n`);
    expect((await run(process.execPath, [TSC, '-p', 'tsconfig.node16.json'], { cwd: app })).stdout).toContain("is not assignable to type 'number'");
  });

  it('`npx tessera` runs the compiled server with plain node', async () => {
    expect(await ok('npx', ['--no-install', 'tessera', '--version'], { cwd: app })).toBe('0.1.0\n');
    expect(readdirSync(path.join(app, 'node_modules'))).not.toContain('tsx');
    const served = await (await fetch(`${base}/static/tessera-client.js`)).text();
    expect(served).toBe(readFileSync(path.join(app, 'node_modules/@tessera/browser/dist/index.js'), 'utf8'));
    // the SQLite checkpoint worker (an eval'd script, no file of its own) loads better-sqlite3 from dist/ too
    expect(server.output()).not.toContain('checkpoint worker ended');
  });

  it.skipIf(!hasChromium)('the installed browser bundle loads in Chromium and signs in against that server', async () => {
    const browser = await launch();
    try {
      const context = await browser.newContext();
      const problems = await watch(context);
      const page = await context.newPage();
      await page.goto(`${base}/sign-in`);
      // a string, not a function: the test's own transform must not rewrite the page's dynamic import
      const result: unknown = await page.evaluate(`import('/static/tessera-client.js').then(async (m) => {
        const signedIn = await m.signIn({ email: 'ada@example.com', password: ${JSON.stringify(PASSWORD)} });
        const me = await m.api('GET', '/v1/me');
        const unsafe = await m.tesseraFetch('/v1/logout', { method: 'POST' });
        return { signedIn: signedIn.status, me: me.status, email: me.body?.email, logout: unsafe.status, stored: localStorage.length + sessionStorage.length };
      })`);
      expect(result).toEqual({ signedIn: 'signed-in', me: 200, email: 'ada@example.com', logout: 204, stored: 0 });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('`npm start` execs the server, which gets SIGTERM itself and stops', async () => {
    const port = await freePort();
    const started = startGroup('npm', ['start', '--silent'], REPO, cleanEnv({ PORT: String(port), HOST: '127.0.0.1', TESSERA_DATA_DIR: path.join(root, 'start-data'), TESSERA_LOG_LEVEL: 'warn' }));
    try {
      await waitForHealth(`http://127.0.0.1:${port}`, started.child, started.output);
      const npmPid = started.child.pid!;
      // the server is npm's own child, with no shell or loader in between
      const children = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(npmPid));
      const cmdlines = children.map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' '));
      expect(cmdlines).toEqual([expect.stringMatching(/node .*tessera serve/)]);
      expect(cmdlines[0]).not.toContain('tsx');
      process.kill(npmPid, 'SIGTERM');
      await new Promise<void>((resolve) => started.child.once('exit', () => resolve()));
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      await expect.poll(() => children.filter(running), { timeout: 10_000 }).toEqual([]);
    } finally {
      await started.stop();
    }
  });
});
