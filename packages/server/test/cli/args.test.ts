/** The command line's parsing and the configuration's checks, in process (cli.test.ts runs the real command). */
import { describe, expect, it } from 'vitest';
import { UsageError, commandOf, parseArgv } from '../../src/cli/args.js';
import { ConfigError, loadConfig, unknownVariables } from '../../src/config.js';
import { closest, editDistance } from '../../src/lib/suggest.js';

describe('command-line parsing', () => {
  it('splits a command from its arguments', () => {
    expect(commandOf(['clients', 'delete', 'rs_1'])).toEqual({ command: 'clients delete', rest: ['rs_1'] });
    expect(commandOf(['serve'])).toEqual({ command: 'serve', rest: [] });
  });

  it('takes each flag the command knows, with = or as the next word', () => {
    const { words, flags } = parseArgv(['users', 'list', '--query', 'ada', '--limit=5', '--json']);
    expect(words).toEqual(['users', 'list']);
    expect(Object.fromEntries(flags)).toEqual({ query: 'ada', limit: '5', json: true });
  });

  it('refuses a flag the command does not know, suggesting the nearest one', () => {
    expect(() => parseArgv(['users', 'list', '--qeury', 'x'])).toThrow(new UsageError('unknown flag --qeury (did you mean --query?)'));
    expect(() => parseArgv(['serve', '--tessera-data-dri', '/x'])).toThrow('(did you mean --tessera-data-dir?)');
    expect(() => parseArgv(['serve', '--frobnicate'])).toThrow(/^unknown flag --frobnicate$/);
    // a flag of another command is still unknown here
    expect(() => parseArgv(['keys', 'list', '--email', 'a@b.c'])).toThrow(UsageError);
  });

  it('refuses a value on a switch and a missing value', () => {
    expect(() => parseArgv(['users', 'list', '--json=yes'])).toThrow('--json takes no value');
    expect(() => parseArgv(['users', 'list', '--limit'])).toThrow('--limit needs a value');
    expect(() => parseArgv(['serve', '--PORT'])).toThrow(ConfigError);
  });
});

describe('configuration checks', () => {
  it('names misspelt TESSERA_ variables with the one they resemble; TESSERA_TEST_ is the tests\' own', () => {
    expect(unknownVariables({ TESSERA_ISSUR: 'x', TESSERA_TEST_PG_URL: 'y', TESSERA_ISSUER: 'http://a', HOME: '/' })).toEqual([
      'TESSERA_ISSUR is not a Tessera variable (did you mean TESSERA_ISSUER?); it is ignored',
    ]);
    expect(unknownVariables({ TESSERA_SOMETHING_ELSE_ENTIRELY: '1' })).toEqual(['TESSERA_SOMETHING_ELSE_ENTIRELY is not a Tessera variable; it is ignored']);
  });

  it('TESSERA_ISSUER must be an absolute http(s) URL', () => {
    for (const bad of ['auth.example.com', 'ftp://auth.example.com', '/auth', 'javascript:alert(1)']) {
      expect(() => loadConfig({ TESSERA_ISSUER: bad }), bad).toThrow(/TESSERA_ISSUER: an absolute http:\/\/ or https:\/\/ URL/);
    }
    expect(loadConfig({ TESSERA_ISSUER: 'https://auth.example.com/' }).issuer).toBe('https://auth.example.com');
    expect(loadConfig({ TESSERA_ISSUER: 'http://localhost:3000/tenant' }).issuer).toBe('http://localhost:3000/tenant');
  });

  it('did-you-mean: near names only', () => {
    expect(editDistance('emial', 'email')).toBe(1);
    expect(closest('emial', ['email', 'admin'])).toBe('email');
    expect(closest('zzz', ['email', 'admin'])).toBeUndefined();
  });
});
