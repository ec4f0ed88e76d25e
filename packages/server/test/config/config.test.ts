import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigDocs } from '../../src/cli/config-docs.js';
import { parseArgv } from '../../src/cli/main.js';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('defaults follow the contract', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.issuer).toBe('http://localhost:3000');
    expect(c.audience).toBe(c.issuer);
    expect(c.databaseUrl).toBe('sqlite:./data/tessera.db');
    expect(c.TESSERA_ACCESS_TTL).toBe(300);
    expect(c.TESSERA_REFRESH_TTL).toBe(1_209_600);
    expect(c.TESSERA_REFRESH_GRACE).toBe(10);
    expect(c.TESSERA_SIGNING_ALG).toBe('EdDSA');
    expect(c.TESSERA_COOKIE_SECURE).toBe(true);
    expect(c.allowedOrigins).toEqual(['http://localhost:3000']);
    expect(c.TESSERA_TRUST_PROXY).toBeUndefined();
  });

  it('refuses invalid values with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ TESSERA_SIGNING_ALG: 'none' })).toThrow(ConfigError);
    expect(() => loadConfig({ TESSERA_SIGNING_ALG: 'HS256' })).toThrow(/TESSERA_HS256_SECRET/);
    expect(() => loadConfig({ TESSERA_SIGNING_ALG: 'HS256', TESSERA_HS256_SECRET: 'short' })).toThrow(/TESSERA_HS256_SECRET/);
    expect(() => loadConfig({ TESSERA_ARGON2_MEMORY_KIB: '1024' })).toThrow(/ARGON2/);
  });

  it('CLI flags carry the same names as the variables', () => {
    const { words, flags, env } = parseArgv(['users', 'create', '--email', 'a@b.c', '--password-stdin', '--PORT=4000', '--tessera-database-url', 'sqlite::memory:']);
    expect(words).toEqual(['users', 'create']);
    expect(flags.get('email')).toBe('a@b.c');
    expect(flags.get('password-stdin')).toBe(true);
    expect(env).toEqual({ PORT: '4000', TESSERA_DATABASE_URL: 'sqlite::memory:' });
  });

  it('docs/configuration.md is generated from the schema and up to date (npm run docs:config)', async () => {
    const file = await readFile(path.resolve(import.meta.dirname, '../../../../docs/configuration.md'), 'utf8');
    expect(file).toBe(renderConfigDocs());
  });
});
