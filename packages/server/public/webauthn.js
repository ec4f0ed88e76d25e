/** WebAuthn ceremonies against the Tessera API: JSON options in, JSON (base64url) responses out. */

const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)).buffer;

const common = (cred) => ({
  id: cred.id,
  rawId: enc(cred.rawId),
  type: cred.type,
  authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
  clientExtensionResults: cred.getClientExtensionResults(),
});

export const supported = () => typeof PublicKeyCredential === 'function' && !!navigator.credentials;

/** Create a credential from registration options; returns the `response` object for the API. */
export async function create(opts) {
  const cred = await navigator.credentials.create({
    publicKey: {
      ...opts,
      challenge: dec(opts.challenge),
      user: { ...opts.user, id: dec(opts.user.id) },
      excludeCredentials: (opts.excludeCredentials || []).map((c) => ({ ...c, id: dec(c.id) })),
    },
  });
  return {
    ...common(cred),
    response: {
      clientDataJSON: enc(cred.response.clientDataJSON),
      attestationObject: enc(cred.response.attestationObject),
      transports: cred.response.getTransports ? cred.response.getTransports() : [],
    },
  };
}

/** Get an assertion from authentication options; returns the `response` object for the API. */
export async function get(opts) {
  const cred = await navigator.credentials.get({
    publicKey: {
      ...opts,
      challenge: dec(opts.challenge),
      allowCredentials: (opts.allowCredentials || []).map((c) => ({ ...c, id: dec(c.id) })),
    },
  });
  return {
    ...common(cred),
    response: {
      clientDataJSON: enc(cred.response.clientDataJSON),
      authenticatorData: enc(cred.response.authenticatorData),
      signature: enc(cred.response.signature),
      userHandle: cred.response.userHandle ? enc(cred.response.userHandle) : undefined,
    },
  };
}
