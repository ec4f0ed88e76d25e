import { z } from 'zod';
import { OneOf, op } from './common.js';

const Checks = z.record(z.string(), z.string()).describe('per dependency (`database`, `state`): `ok` or `unreachable`');

export const healthzSchema = op({
  summary: 'Liveness: the process is up',
  tags: ['operations'],
  response: { 200: z.object({ status: OneOf('ok') }).describe('Up') },
  errors: [],
  unlimited: true,
});

export const readyzSchema = op({
  summary: 'Readiness: the database and shared state answer',
  tags: ['operations'],
  response: {
    200: z.object({ status: OneOf('ready'), checks: Checks }).describe('Ready'),
    503: {
      description: 'Problem: `service_unavailable`, with the failing check',
      content: {
        'application/problem+json': {
          // problem.ts builds the body as a plain record; the document still shows its members.
          schema: z.record(z.string(), z.unknown()).meta({
            properties: { type: { type: 'string' }, title: { type: 'string' }, status: { enum: [503] }, code: { enum: ['service_unavailable'] }, checks: { type: 'object', additionalProperties: { type: 'string' } } },
            required: ['type', 'title', 'status', 'code', 'checks'],
          }),
        },
      },
    },
  },
  errors: [],
  unlimited: true,
});

export const metricsSchema = op({
  summary: 'Prometheus metrics',
  tags: ['operations'],
  response: {
    200: { description: 'Metrics in the Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
  },
  errors: [],
  unlimited: true,
});
