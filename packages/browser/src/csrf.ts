/**
 * The readable CSRF cookie. The server binds it to the session and re-issues it on every refresh; the
 * client copies it into `X-CSRF-Token` on unsafe requests (a cross-site page cannot read it, so it cannot
 * forge that header) and compares it across tabs to notice a refresh another tab already made.
 */
export const CSRF_COOKIES = ['__Host-tessera_csrf', 'tessera_csrf'];
export const CSRF_HEADER = 'x-csrf-token';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The CSRF cookie's value, or undefined when there is no session. */
export function csrfToken(): string | undefined {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (CSRF_COOKIES.includes(name)) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export const isUnsafe = (method: string): boolean => UNSAFE.has(method.toUpperCase());

/** The header source that adds the CSRF token to unsafe requests. */
export function csrfHeaders({ method }: { method: string }): Record<string, string> {
  const token = csrfToken();
  return token !== undefined && isUnsafe(method) ? { [CSRF_HEADER]: token } : {};
}

/** The session is over: drop the (readable, now useless) CSRF cookie so pages stop trying to resume it. */
export function clearCsrfCookies(): void {
  for (const name of CSRF_COOKIES) document.cookie = `${name}=; Max-Age=0; Path=/; Secure; SameSite=Strict`;
}
