import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
export async function loadKeyEncryptionKey(cfg: {
  TESSERA_KEY_ENCRYPTION_KEY?: string;
  TESSERA_DATA_DIR: string;
}): Promise<{ key: Buffer; source: KekSource }> {
  if (cfg.TESSERA_KEY_ENCRYPTION_KEY !== undefined && cfg.TESSERA_KEY_ENCRYPTION_KEY !== '') {
    return { key: decode(cfg.TESSERA_KEY_ENCRYPTION_KEY, 'TESSERA_KEY_ENCRYPTION_KEY'), source: 'env' };
  }
  const file = path.join(cfg.TESSERA_DATA_DIR, KEY_FILE);
  try {
    return { key: await readKeyFile(file), source: 'file' };
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
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
