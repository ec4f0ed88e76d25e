import type { LoggerOptions } from 'pino';

/** Never log credentials: these paths are removed from every log line by pino's redaction. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.dpop',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'password',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.refresh_token',
  '*.access_token',
  '*.mfa_token',
  '*.token',
  '*.code',
  '*.secret',
];

/** Request URLs are logged without their query: reset links and OAuth callbacks carry secrets there. */
function reqSerializer(req: { method?: string; url?: string; socket?: { remoteAddress?: string } }): Record<string, unknown> {
  return { method: req.method, url: req.url?.split('?')[0], remoteAddress: req.socket?.remoteAddress };
}

export const LOG_OPTIONS: LoggerOptions = {
  redact: { paths: LOG_REDACT, censor: '[redacted]' },
  serializers: { req: reqSerializer },
};
