import { mkdir } from 'node:fs/promises';
import { ConfigError, configSchema, loadConfig, type Config } from '../config.js';
import { isTesseraError } from '../core/errors.js';
import { buildApp } from '../http/app.js';
import { createTessera, type TesseraServices } from '../tessera.js';

const USAGE = `usage: tessera <command> [--VARIABLE=value …]

commands:
  serve                                        run the server
  migrate                                      apply database migrations
  keys rotate                                  next → current → previous; a new next key
  keys list                                    list signing keys
  users create --email E --password-stdin [--admin]
  clients create --name N [--json]             a resource-server client (secret printed once)

Every command reads the configuration variables (see docs/configuration.md) from the environment, or as
flags with the same name: --PORT=4000, --TESSERA_DATABASE_URL=sqlite:./data/x.db (or --tessera-database-url).`;

/** Split argv into positional words, command flags and configuration overrides. */
export function parseArgv(argv: string[]): { words: string[]; flags: Map<string, string | true>; env: Record<string, string> } {
  const words: string[] = [];
  const flags = new Map<string, string | true>();
  const env: Record<string, string> = {};
  const known = new Set(Object.keys(configSchema.shape));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      words.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const rawName = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const envName = rawName.toUpperCase().replace(/-/g, '_');
    let value: string | true = eq > 0 ? a.slice(eq + 1) : true;
    if (value === true && known.has(envName) && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) value = argv[++i]!;
    if (known.has(envName)) {
      if (value === true) throw new ConfigError(`--${rawName} needs a value`);
      env[envName] = value;
    } else {
      if (value === true && ['email', 'name'].includes(rawName) && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) value = argv[++i]!;
      flags.set(rawName, value);
    }
  }
  return { words, flags, env };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { words, flags, env } = parseArgv(argv);
    const cmd = words.join(' ');
    if (cmd === '' || flags.has('help') || cmd === 'help') {
      console.log(USAGE);
      return cmd === '' && !flags.has('help') ? 2 : 0;
    }
    const config = loadConfig({ ...process.env, ...env });
    // the data folder holds the database, the key-encryption key and the outboxes: owner only
    await mkdir(config.TESSERA_DATA_DIR, { recursive: true, mode: 0o700 });
    switch (cmd) {
      case 'serve':
        return await serve(config);
      case 'migrate':
      case 'keys rotate':
      case 'keys list':
      case 'users create':
      case 'clients create':
        return await oneShot(cmd, config, flags);
      default:
        console.error(`unknown command: ${cmd}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    else if (isTesseraError(err)) console.error(`error: ${err.code}${err.detail ? `: ${err.detail}` : ''}`);
    else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function oneShot(cmd: string, config: Config, flags: Map<string, string | true>): Promise<number> {
  // commands work through the services only, like the HTTP layer
  const t: TesseraServices & { close(): Promise<void> } = await createTessera(config, { oneShot: true });
  try {
    switch (cmd) {
      case 'migrate':
        console.log('migrations applied'); // createTessera migrates
        return 0;
      case 'keys rotate': {
        await t.keys.rotate();
        await t.events.record({ type: 'keys_rotated' });
        for (const k of t.keys.list()) console.log(`${k.state.padEnd(8)} ${k.alg.padEnd(6)} ${k.kid}`);
        return 0;
      }
      case 'keys list':
        for (const k of t.keys.list()) console.log(`${k.state.padEnd(8)} ${k.alg.padEnd(6)} ${k.kid}  ${new Date(k.createdAt).toISOString()}`);
        return 0;
      case 'users create': {
        const email = flags.get('email');
        if (typeof email !== 'string' || !flags.has('password-stdin')) {
          console.error('usage: tessera users create --email E --password-stdin [--admin]');
          return 2;
        }
        const password = await readStdin();
        const user = await t.accounts.register({ email, password, isAdmin: flags.has('admin') });
        console.log(JSON.stringify({ id: user.id, email: user.email, admin: user.isAdmin }));
        return 0;
      }
      case 'clients create': {
        const name = flags.get('name');
        if (typeof name !== 'string' || name.length === 0) {
          console.error('usage: tessera clients create --name N [--json]');
          return 2;
        }
        const { id, secret } = await t.clients.create(name);
        if (flags.has('json')) console.log(JSON.stringify({ client_id: id, client_secret: secret }));
        else console.log(`client_id:     ${id}\nclient_secret: ${secret}\n(the secret is shown only now; store it in the resource server's configuration)`);
        return 0;
      }
    }
    return 2;
  } finally {
    await t.close();
  }
}

async function serve(config: Config): Promise<number> {
  const t = await createTessera(config);
  const app = await buildApp(t, { closeBackend: () => t.close() });
  // readiness 503, stop accepting, end revocation streams, drain, force-close, exit 0 (http/shutdown.ts)
  process.once('SIGINT', () => void app.shutdown.begin('SIGINT'));
  process.once('SIGTERM', () => void app.shutdown.begin('SIGTERM'));
  const address = await app.listen({ port: config.PORT, host: config.HOST });
  const db = config.databaseUrl.startsWith('postgres') ? 'PostgreSQL' : config.databaseUrl;
  app.log.info(`Tessera listening on ${address} (issuer ${config.issuer}; database ${db}; state ${t.state.kind})`);
  return new Promise<number>(() => undefined); // runs until a signal
}
