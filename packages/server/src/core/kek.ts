import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type KekSource = 'env' | 'file' | 'generated';

const KEY_FILE = 'kek.key';
const KEY_FORMAT = /^[A-Za-z0-9_-]{43}$/;

function decode(value: string, where: string): Buffer {
  const text = value.trim();
  const key = Buffer.from(text, 'base64url');
  if (!KEY_FORMAT.test(text) || key.length !== 32) {
    throw new TypeError(`${where}: the key-encryption key must be 32 bytes, base64url (43 characters)`);
  }
  return key;
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

async function readKeyFile(file: string): Promise<Buffer> {
  // A concurrent starter may have created the file but not yet written it: retry briefly on empty content.
  for (let attempt = 0; ; attempt++) {
    const text = await readFile(file, 'utf8');
    if (text.trim() !== '' || attempt >= 50) return decode(text, file);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The key-encryption key (KEK) seals private signing keys and other secrets at rest. It comes from
 * TESSERA_KEY_ENCRYPTION_KEY, else from `<dataDir>/kek.key`, which is generated on first start. The file is
 * created with `wx` (O_CREAT|O_EXCL), so two processes starting at once cannot each write a different key and
 * seal rows the other cannot open: the loser of the race reads the winner's file.
 */
export async function loadKeyEncryptionKey(
  cfg: { TESSERA_KEY_ENCRYPTION_KEY?: string; TESSERA_DATA_DIR: string },
  opts: { mayGenerate?: () => Promise<boolean> } = {},
): Promise<{ key: Buffer; source: KekSource }> {
  if (cfg.TESSERA_KEY_ENCRYPTION_KEY !== undefined && cfg.TESSERA_KEY_ENCRYPTION_KEY !== '') {
    return { key: decode(cfg.TESSERA_KEY_ENCRYPTION_KEY, 'TESSERA_KEY_ENCRYPTION_KEY'), source: 'env' };
  }
  const file = path.join(cfg.TESSERA_DATA_DIR, KEY_FILE);
  try {
    return { key: await readKeyFile(file), source: 'file' };
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  if (opts.mayGenerate && !(await opts.mayGenerate())) {
    throw new KekError(
      `this database already holds keys sealed with a key-encryption key, and none is configured: set TESSERA_KEY_ENCRYPTION_KEY to the key every node of this deployment uses (no key was generated, ${file} was not written)`,
    );
  }
  await mkdir(cfg.TESSERA_DATA_DIR, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    await writeFile(file, `${key.toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    return { key: await readKeyFile(file), source: 'file' };
  }
  return { key, source: 'generated' };
}

/** The KEK is missing or is not the key this database's secrets were sealed with. */
export class KekError extends Error {
  override name = 'KekError';
}

/** What the database stores to recognise its KEK: an HMAC of a fixed label, revealing nothing of the key. */
export function kekCheckValue(key: Buffer): string {
  return `v1.${createHmac('sha256', key).update('tessera key-encryption key check').digest('base64url')}`;
}

function sameCheck(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function describeSource(kek: { source: KekSource; file: string }): string {
  if (kek.source === 'env') return 'from the environment (TESSERA_KEY_ENCRYPTION_KEY)';
  if (kek.source === 'file') return `from the file ${kek.file}`;
  return `generated just now into ${kek.file}`;
}

export interface KekStore {
  getKekCheck(): Promise<string | undefined>;
  putKekCheck(value: string, at: number): Promise<string>;
  anySealedKey(): Promise<{ kid: string; sealed: string } | undefined>;
}

/**
 * Loads the KEK and proves it is this database's before anything is migrated or sealed: against the stored
 * check value, or, on a database from before check values, by opening one sealed signing key. No key is
 * generated for a database that already holds a check value or sealed keys. A node with another key would
 * otherwise seal new secrets no other node can open, and die later on "unable to authenticate data".
 */
export async function unlockKeyEncryptionKey(
  cfg: { TESSERA_KEY_ENCRYPTION_KEY?: string; TESSERA_DATA_DIR: string },
  store: KekStore,
  open: (key: Buffer, sealed: string, aad: string) => void,
): Promise<{ key: Buffer; source: KekSource; file: string }> {
  const [stored, sealed] = await Promise.all([store.getKekCheck(), store.anySealedKey()]);
  const loaded = await loadKeyEncryptionKey(cfg, { mayGenerate: async () => stored === undefined && sealed === undefined });
  const kek = { ...loaded, file: path.join(cfg.TESSERA_DATA_DIR, KEY_FILE) };
  let matches = true;
  if (stored !== undefined) matches = sameCheck(stored, kekCheckValue(kek.key));
  else if (sealed !== undefined) {
    try {
      open(kek.key, sealed.sealed, sealed.kid);
    } catch {
      matches = false;
    }
  }
  if (!matches) await refuse(kek);
  return kek;
}

/** After migrations: store the check value (first writer wins) and refuse if another node's key won. */
export async function recordKekCheck(store: KekStore, kek: { key: Buffer; source: KekSource; file: string }, now: number): Promise<void> {
  const stored = await store.putKekCheck(kekCheckValue(kek.key), now);
  if (!sameCheck(stored, kekCheckValue(kek.key))) await refuse(kek);
}

async function refuse(kek: { source: KekSource; file: string }): Promise<never> {
  // a key generated by this start for a database that turned out to have another one is of no use to anyone
  if (kek.source === 'generated') await unlink(kek.file).catch(() => undefined);
  throw new KekError(
    `the key-encryption key ${describeSource(kek)} does not open this database's keys: set TESSERA_KEY_ENCRYPTION_KEY to the key every node of this deployment uses`,
  );
}
