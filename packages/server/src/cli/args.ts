/** The command line's words and flags: which flags each command takes, and a did-you-mean for the rest. */
import { ConfigError, configSchema } from '../config.js';
import { closest } from '../lib/suggest.js';

/** Flags of each command (`value`: takes a value, `multi`: a value, repeatable, `switch`: on when present). */
export const COMMAND_FLAGS: Record<string, Record<string, 'value' | 'multi' | 'switch'>> = {
  serve: {},
  migrate: {},
  'keys rotate': { init: 'switch' },
  'keys list': { init: 'switch' },
  'users create': { email: 'value', 'password-stdin': 'switch', admin: 'switch', init: 'switch' },
  'users list': { query: 'value', limit: 'value', cursor: 'value', json: 'switch', init: 'switch' },
  'clients create': {
    name: 'value',
    type: 'value',
    'redirect-uri': 'multi',
    'post-logout-redirect-uri': 'multi',
    'backchannel-logout-uri': 'value',
    'first-party': 'switch',
    scope: 'value',
    audience: 'value',
    json: 'switch',
    init: 'switch',
  },
  'clients list': { json: 'switch', init: 'switch' },
  'clients delete': { init: 'switch' },
};
const GLOBAL_FLAGS: Record<string, 'switch'> = { help: 'switch', version: 'switch' };

export interface ParsedArgs {
  words: string[];
  /** a `multi` flag's values are in `lists` (the flag itself holds the last one) */
  flags: Map<string, string | true>;
  lists: Map<string, string[]>;
  /** configuration given as flags (--PORT=4000, --tessera-database-url X) */
  env: Record<string, string>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

const CONFIG_NAMES = new Set(Object.keys(configSchema.shape));

/** The command: the leading words that name one (`users list`), the rest are its arguments. */
export function commandOf(words: string[]): { command: string; rest: string[] } {
  for (const n of [2, 1]) {
    const candidate = words.slice(0, n).join(' ');
    if (candidate in COMMAND_FLAGS) return { command: candidate, rest: words.slice(n) };
  }
  return { command: words.join(' '), rest: [] };
}

/** Split argv into words, command flags and configuration overrides; an unknown flag is a UsageError. */
export function parseArgv(argv: string[]): ParsedArgs {
  const words = argv.filter((a, i) => !a.startsWith('--') && !takesValue(argv, i - 1));
  const known = { ...GLOBAL_FLAGS, ...(COMMAND_FLAGS[commandOf(words).command] ?? {}) };
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const envName = name.toUpperCase().replace(/-/g, '_');
    const kind = CONFIG_NAMES.has(envName) ? 'config' : known[name];
    if (kind === undefined) throw new UsageError(unknownFlag(name, Object.keys(known)));
    if (kind === 'switch') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = inline ?? (takesValue(argv, i) ? argv[++i] : undefined);
    if (value === undefined) throw new (kind === 'config' ? ConfigError : UsageError)(`--${name} needs a value`);
    if (kind === 'config') env[envName] = value;
    else {
      if (kind === 'multi') lists.set(name, [...(lists.get(name) ?? []), value]);
      flags.set(name, value);
    }
  }
  return { words, flags, lists, env };
}

/** `argv[i]` is a flag written without `=` whose value is the next word. */
function takesValue(argv: string[], i: number): boolean {
  const a = argv[i];
  if (a === undefined || !a.startsWith('--') || a.includes('=')) return false;
  const next = argv[i + 1];
  if (next === undefined || next.startsWith('--')) return false;
  const name = a.slice(2);
  if (CONFIG_NAMES.has(name.toUpperCase().replace(/-/g, '_'))) return true;
  return Object.values(COMMAND_FLAGS).some((f) => f[name] === 'value' || f[name] === 'multi');
}

function unknownFlag(name: string, commandFlags: string[]): string {
  const candidates = [...commandFlags, ...[...CONFIG_NAMES].map((n) => n.toLowerCase().replace(/_/g, '-'))];
  const guess = closest(name.toLowerCase().replace(/_/g, '-'), candidates);
  return `unknown flag --${name}${guess ? ` (did you mean --${guess}?)` : ''}`;
}
