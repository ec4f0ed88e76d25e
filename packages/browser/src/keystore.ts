/**
 * The page's DPoP key pair, kept in IndexedDB as `CryptoKey` objects. The private key is generated
 * non-extractable: script on the page (an XSS payload included) can ask the browser to sign with it, but
 * never read it, so it cannot leave this browser profile. IndexedDB stores the key object itself (structured
 * clone), never its bytes.
 */
const DB_NAME = 'tessera-dpop';
const STORE = 'keys';
const CURRENT = 'current';

export interface StoredKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  alg: 'ES256';
  createdAt: number;
}

/** WebCrypto and IndexedDB in a secure context; without them the session stays unbound (today's cookies). */
export function keysSupported(): boolean {
  return globalThis.isSecureContext === true && typeof crypto !== 'undefined' && crypto.subtle !== undefined && typeof indexedDB !== 'undefined';
}

let opened: Promise<IDBDatabase> | undefined;

function db(): Promise<IDBDatabase> {
  opened ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
  });
  opened.catch(() => (opened = undefined));
  return opened;
}

async function run<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const tx = (await db()).transaction(STORE, mode);
  return new Promise<T>((resolve, reject) => {
    const req = op(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result as T);
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB request failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The current key pair of this browser profile, or undefined (none yet, or storage refused). */
export async function currentKey(): Promise<StoredKey | undefined> {
  if (!keysSupported()) return undefined;
  try {
    return (await run<StoredKey | undefined>('readonly', (s) => s.get(CURRENT))) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * A new key pair replaces the old one: every sign-in gets its own key, so a key is never shared by two
 * sessions, nor by two accounts signing in on this profile one after the other.
 */
export async function newKey(): Promise<StoredKey | undefined> {
  if (!keysSupported()) return undefined;
  try {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const key: StoredKey = { privateKey: pair.privateKey, publicKey: pair.publicKey, alg: 'ES256', createdAt: Date.now() };
    await run('readwrite', (s) => s.put(key, CURRENT));
    return key;
  } catch {
    // No usable storage (a private window that refuses IndexedDB): an unbound session, recorded as such.
    await dropKey();
    return undefined;
  }
}

/** Sign-out: the key dies with the session. */
export async function dropKey(): Promise<void> {
  if (!keysSupported()) return;
  try {
    await run('readwrite', (s) => s.delete(CURRENT));
  } catch {
    // nothing stored, nothing to drop
  }
}
