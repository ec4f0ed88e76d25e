import { z } from 'zod';

/**
 * The WebAuthn options @simplewebauthn/server builds (W3C WebAuthn Level 3 `…OptionsJSON`), for the
 * browser's `PublicKeyCredential.parse…OptionsFromJSON()`. Extensions are passed through as built.
 */
const UserVerification = z.enum(['discouraged', 'preferred', 'required']);
const Hints = z.array(z.enum(['hybrid', 'security-key', 'client-device']));
const Descriptor = z.object({
  id: z.string().describe('credential id, base64url'),
  type: z.literal('public-key'),
  transports: z.array(z.string()).optional().describe('as the authenticator reported them: `usb`, `nfc`, `ble`, `internal`, `hybrid`, …'),
});
const Extensions = z.unknown().describe('client extension inputs');

export const RequestOptions = z
  .object({
    challenge: z.string(),
    timeout: z.number().optional(),
    rpId: z.string().optional(),
    allowCredentials: z.array(Descriptor).optional(),
    userVerification: UserVerification.optional(),
    hints: Hints.optional(),
    extensions: Extensions.optional(),
  })
  .describe('PublicKeyCredentialRequestOptionsJSON');

export const CreationOptions = z
  .object({
    rp: z.object({ id: z.string().optional(), name: z.string() }),
    user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
    challenge: z.string(),
    pubKeyCredParams: z.array(z.object({ alg: z.number(), type: z.literal('public-key') })),
    timeout: z.number().optional(),
    excludeCredentials: z.array(Descriptor).optional(),
    authenticatorSelection: z
      .object({
        authenticatorAttachment: z.enum(['cross-platform', 'platform']).optional(),
        requireResidentKey: z.boolean().optional(),
        residentKey: z.enum(['discouraged', 'preferred', 'required']).optional(),
        userVerification: UserVerification.optional(),
      })
      .optional(),
    hints: Hints.optional(),
    attestation: z.enum(['direct', 'enterprise', 'indirect', 'none']).optional(),
    attestationFormats: z.array(z.enum(['fido-u2f', 'packed', 'android-safetynet', 'android-key', 'tpm', 'apple', 'none'])).optional(),
    extensions: Extensions.optional(),
  })
  .describe('PublicKeyCredentialCreationOptionsJSON');
