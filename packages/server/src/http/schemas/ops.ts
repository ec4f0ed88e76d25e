import { z } from 'zod';
import { op } from './common.js';

const Checks = z.record(z.string(), z.enum(['ok', 'unreachable'])).describe('per dependency: `database`, `state`');

export const healthzSchema = op({
  summary: 'Liveness: the process is up',
  tags: ['operations'],
  response: { 200: z.object({ status: z.literal('ok') }).describe('Up') },
  errors: [],
  unlimited: true,
});

export const readyzSchema = op({
  summary: 'Readiness: the database and shared state answer',
  tags: ['operations'],
  response: {
    200: z.object({ status: z.literal('ready'), checks: Checks }).describe('Ready'),
    503: {
      description: 'Problem: `service_unavailable`, with the failing check',
      content: {
        'application/problem+json': {
          schema: z.looseObject({ type: z.string(), title: z.string(), status: z.number().int(), code: z.literal('service_unavailable'), checks: Checks }),
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
