/** A real pino logger (the server's own options) whose lines a test can read. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { LOG_OPTIONS } from '../../src/lib/log.js';

export function capturingLog(level: string): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: pino({ level, ...LOG_OPTIONS }, sink), lines };
}
