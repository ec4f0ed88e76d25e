import { createRequire } from 'node:module';
import { ConfigError, loadConfig, unknownVariables, type Config } from '../config.js';
import { isTesseraError } from '../core/errors.js';
import { COMMAND_FLAGS, UsageError, commandOf, parseArgv } from './args.js';
import type { CommandInput } from './commands.js';
import { InfrastructureError, describe, prepareFiles, requireInstallation } from './infrastructure.js';

export { parseArgv } from './args.js';

const USAGE = `usage: tessera <command> [--VARIABLE=value …]

commands:
  serve                                        run the server (creates the database on first start)
  migrate                                      create the database, or bring it up to date
  keys rotate                                  next → current → previous; a new next key
  keys list                                    list signing keys
  users create --email E --password-stdin [--admin]
  users list [--query EMAIL-PREFIX|ID] [--limit N] [--cursor C] [--json]
  clients create --name N [--json]             a resource-server client (secret printed once)
  clients list [--json]
  clients delete ID

options:
  --version                                    print the version
  --init                                       let a command other than serve/migrate create a new database

Every command reads the configuration variables (see docs/configuration.md) from the environment, or as
flags with the same name: --PORT=4000, --TESSERA_DATABASE_URL=sqlite:./data/x.db (or --tessera-database-url).`;

/** Commands that may create a new installation without --init. */
const CREATES = new Set(['serve', 'migrate']);

function version(): string {
  // ../../package.json from src/cli/ and from dist/cli/ alike
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  return pkg.version;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function main(argv: string[]): Promise<number> {
  let config: Config | undefined;
  try {
    const { words, flags, lists, env } = parseArgv(argv);
    if (flags.has('version')) {
      console.log(version());
      return 0;
    }
    const { command, rest } = commandOf(words);
    if (command === '' || flags.has('help') || command === 'help') {
      console.log(USAGE);
      return command === '' && !flags.has('help') ? 2 : 0;
    }
    if (!(command in COMMAND_FLAGS)) throw new UsageError(`unknown command: ${command}`);
    if (rest.length > 0 && command !== 'clients delete') throw new UsageError(`unexpected argument for ${command}: ${rest.join(' ')}`);
    for (const warning of unknownVariables(process.env)) console.error(`warning: ${warning}`);
    config = loadConfig({ ...process.env, ...env });
    if (!CREATES.has(command) && !flags.has('init')) await requireInstallation(config);
    prepareFiles(config);
    if (command === 'serve') return await serve(config);
    return await oneShot(command, config, { flags, lists, rest, readStdin });
  } catch (err) {
    return report(err, config);
  }
}

function report(err: unknown, config: Config | undefined): number {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (err instanceof ConfigError || err instanceof InfrastructureError) console.error(err.message);
  else if (isTesseraError(err)) console.error(`error: ${err.code}${err.detail ? `: ${err.detail}` : ''}`);
  else console.error(`error: ${(config && describe(err, config)) ?? (err instanceof Error ? err.message : String(err))}`);
  return 1;
}

// The server's modules load only once a command runs, so --version, --help and usage errors answer at once.
async function oneShot(command: string, config: Config, input: CommandInput): Promise<number> {
  const [{ createTessera }, { ONE_SHOT }] = await Promise.all([import('../tessera.js'), import('./commands.js')]);
  const run = ONE_SHOT[command];
  if (run === undefined) throw new UsageError(`unknown command: ${command}`);
  const t = await createTessera(config, { oneShot: true });
  try {
    return await run(t, input);
  } finally {
    await t.close();
  }
}

async function serve(config: Config): Promise<number> {
  const [{ createTessera }, { buildApp }] = await Promise.all([import('../tessera.js'), import('../http/app.js')]);
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
