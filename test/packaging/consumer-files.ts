/** The files of the temporary consumer project (packages.test.ts writes them there). */

const VERIFY_BODY = `
  const [issuer, token] = process.argv.slice(2);
  const verifier = createVerifier({ issuer });
  const claims = await verifier.verify(token);
  let tampered = '';
  try {
    await verifier.verify(token.slice(0, token.lastIndexOf('.') + 1) + 'A'.repeat(86));
  } catch (err) {
    tampered = isTesseraTokenError(err) ? err.code : 'not a TesseraTokenError: ' + err;
  }
  await verifier.close();
  console.log(JSON.stringify({ sub: claims.sub, tampered }));
`;

export const CONSUMER_MJS = `import { createVerifier, isTesseraTokenError } from '@tessera/sdk';
${VERIFY_BODY}`;

export const CONSUMER_CJS = `const { createVerifier, isTesseraTokenError } = require('@tessera/sdk');
(async () => {
${VERIFY_BODY}
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

/** A CommonJS module under node16 (the project has no "type"), an ES module under bundler. */
export const CONSUMER_TS = `import { createVerifier, isTesseraTokenError, type AccessTokenClaims, type VerifierOptions } from '@tessera/sdk';
import { tesseraAuth, type TesseraExpressOptions } from '@tessera/sdk/express';

const options: VerifierOptions = { issuer: 'https://auth.example.com', maxStalenessSec: 30, revocationFeed: 'off' };

export async function subject(token: string): Promise<string | null> {
  try {
    const claims: AccessTokenClaims = await createVerifier(options).verify(token, { scheme: 'bearer' });
    return claims.sub;
  } catch (err) {
    if (isTesseraTokenError(err)) return null;
    throw err;
  }
}

const expressOptions: TesseraExpressOptions = { issuer: 'https://auth.example.com' };
export const auth = tesseraAuth(expressOptions);
`;

export const CONSUMER_MTS = `import { createVerifier } from '@tessera/sdk';
import type { TesseraVerifier } from '@tessera/sdk';

export const verifier: TesseraVerifier = createVerifier({ issuer: 'https://auth.example.com' });
`;

export const BROWSER_TS = `import { signIn, tesseraFetch, type SignInResult } from '@tessera/browser';

export async function enter(email: string, password: string): Promise<SignInResult> {
  const result = await signIn({ email, password });
  if (result.status === 'signed-in') await tesseraFetch('/v1/me');
  return result;
}
`;

export function tsconfig(resolution: 'node16' | 'bundler', files: string[]): string {
  return JSON.stringify({
    compilerOptions: {
      module: resolution === 'node16' ? 'node16' : 'esnext',
      moduleResolution: resolution,
      target: 'es2022',
      lib: ['es2023', 'dom'],
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    files,
  });
}
