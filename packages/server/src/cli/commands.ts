/** The one-shot commands: each runs against a Tessera built without background timers, then exits. */
import type { Tessera } from '../tessera.js';
import { CLIENT_TYPES, RegistrationError } from '../core/oauth/clients.js';
import type { OAuthClientType } from '../store/ports/oauth.js';
import { UsageError } from './args.js';

export interface CommandInput {
  flags: Map<string, string | true>;
  /** values of repeatable flags (`--redirect-uri A --redirect-uri B`) */
  lists?: Map<string, string[]>;
  /** words after the command's name (`clients delete ID` → [ID]) */
  rest: string[];
  readStdin: () => Promise<string>;
}

type Command = (t: Tessera, input: CommandInput) => Promise<number>;

const iso = (ms: number) => new Date(ms).toISOString();
const stringFlag = (flags: Map<string, string | true>, name: string): string | undefined => {
  const v = flags.get(name);
  return typeof v === 'string' ? v : undefined;
};

export const ONE_SHOT: Record<string, Command> = {
  migrate: async () => {
    console.log('migrations applied'); // createTessera migrates
    return 0;
  },
  'keys rotate': async (t) => {
    await t.keys.rotate();
    // the RS256 ID-token keys rotate with the access-token keys
    await t.oauth.rotateKeys();
    await t.events.record({ type: 'keys_rotated' });
    for (const k of t.keys.list()) console.log(`${k.state.padEnd(8)} ${k.alg.padEnd(6)} ${k.kid}`);
    return 0;
  },
  'keys list': async (t) => {
    for (const k of t.keys.list()) console.log(`${k.state.padEnd(8)} ${k.alg.padEnd(6)} ${k.kid}  ${iso(k.createdAt)}`);
    return 0;
  },
  'users create': async (t, { flags, readStdin }) => {
    const email = stringFlag(flags, 'email');
    if (email === undefined || !flags.has('password-stdin')) throw new UsageError('usage: tessera users create --email E --password-stdin [--admin]');
    const user = await t.accounts.register({ email, password: await readStdin(), isAdmin: flags.has('admin') });
    console.log(JSON.stringify({ id: user.id, email: user.email, admin: user.isAdmin }));
    return 0;
  },
  'users list': usersList,
  'clients create': clientsCreate,
  'clients list': async (t, { flags }) => {
    const clients = await t.oauth.listClients();
    if (flags.has('json')) {
      console.log(JSON.stringify(clients.map((c) => ({ client_id: c.id, name: c.name, type: c.type, redirect_uris: c.redirectUris, first_party: c.firstParty, scope: c.scopes.join(' '), audience: c.audience, created_at: iso(c.createdAt) }))));
    } else {
      for (const c of clients) console.log(`${c.id}  ${c.type.padEnd(8)} ${iso(c.createdAt)}  ${c.name}${c.audience ? `  ${c.audience}` : ''}`);
    }
    return 0;
  },
  'clients delete': async (t, { rest }) => {
    const [id, ...extra] = rest;
    if (id === undefined || extra.length > 0) throw new UsageError('usage: tessera clients delete ID');
    if (!(await t.oauth.deleteClient(id))) {
      console.error(`no client ${id} (tessera clients list shows them)`);
      return 1;
    }
    console.log(`deleted ${id}: its client_id and secret no longer authenticate`);
    return 0;
  },
};

const CLIENTS_USAGE = 'usage: tessera clients create --name N [--type web|spa|native|service|resource] [--redirect-uri U]… [--post-logout-redirect-uri U]… [--backchannel-logout-uri U] [--first-party] [--scope "…"] [--audience URI] [--json]';

/** `clients create`: a client of any type; the secret is printed once (none for public clients). */
async function clientsCreate(t: Tessera, { flags, lists }: CommandInput): Promise<number> {
  const name = stringFlag(flags, 'name');
  if (!name) throw new UsageError(CLIENTS_USAGE);
  const type = stringFlag(flags, 'type') ?? 'resource';
  if (!CLIENT_TYPES.includes(type as OAuthClientType)) throw new UsageError(`--type must be one of ${CLIENT_TYPES.join(', ')}`);
  let created: { clientId: string; secret: string | undefined };
  try {
    created = await t.oauth.createClient({
      name,
      type: type as OAuthClientType,
      redirectUris: lists?.get('redirect-uri') ?? [],
      postLogoutRedirectUris: lists?.get('post-logout-redirect-uri') ?? [],
      backchannelLogoutUri: stringFlag(flags, 'backchannel-logout-uri'),
      firstParty: flags.has('first-party'),
      scope: stringFlag(flags, 'scope'),
      audience: stringFlag(flags, 'audience'),
    });
  } catch (err) {
    if (err instanceof RegistrationError) throw new UsageError(err.message);
    throw err;
  }
  const { clientId, secret } = created;
  if (flags.has('json')) console.log(JSON.stringify({ client_id: clientId, ...(secret !== undefined ? { client_secret: secret } : {}) }));
  else if (secret === undefined) console.log(`client_id:     ${clientId}\n(a public client: it has no secret and must use PKCE)`);
  else console.log(`client_id:     ${clientId}\nclient_secret: ${secret}\n(the secret is shown only now; store it in the client's configuration)`);
  return 0;
}

/** `users list [--query Q] [--limit N] [--cursor C] [--json]`: one page; the next page's cursor on stderr. */
async function usersList(t: Tessera, { flags }: CommandInput): Promise<number> {
  const limitText = stringFlag(flags, 'limit') ?? '50';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be a whole number from 1 to 1000, not "${limitText}"`);
  const query = stringFlag(flags, 'query');
  const cursor = stringFlag(flags, 'cursor');
  let page: Awaited<ReturnType<Tessera['adminUsers']['list']>>;
  try {
    // the admin API's list: email prefix or exact id, with verification, second factor, status and last sign-in
    page = await t.adminUsers.list({ limit, ...(query !== undefined ? { query } : {}), ...(cursor !== undefined ? { cursor } : {}) });
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(`--cursor: not a cursor this command printed`);
    throw err;
  }
  const rows = page.items;
  if (flags.has('json')) {
    console.log(JSON.stringify({ users: rows, next_cursor: page.nextCursor }));
    return 0;
  }
  for (const u of rows) {
    const marks = [u.admin && 'admin', u.disabled && 'disabled', !u.email_verified && 'unverified', u.mfa && 'mfa'].filter(Boolean).join(', ');
    console.log(`${u.id}  ${u.created_at}  ${u.email}${marks ? `  (${marks})` : ''}`);
  }
  if (page.nextCursor !== null) console.error(`more: tessera users list --limit ${limit} --cursor ${page.nextCursor}${query !== undefined ? ` --query ${query}` : ''}`);
  return 0;
}
