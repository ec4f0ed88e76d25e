/**
 * Tessera as a library: build the server inside your own process (the `tessera serve` command does exactly
 * this). `loadConfig` validates an environment-like record, `createTessera` wires the services, `buildApp`
 * returns the Fastify instance to `listen` on.
 */
export { ConfigError, configSchema, loadConfig } from './config.js';
export type { Config, RawConfig } from './config.js';
export { createTessera } from './tessera.js';
export type { Tessera, TesseraOverrides } from './tessera.js';
export { buildApp } from './http/app.js';
export type { AppOptions } from './http/app.js';
