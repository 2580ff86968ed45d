/**
 * Public surface of the package: everything exported here is intentional.
 *
 * Embedding: `const app = await createApp(loadConfig(env)); server.on('request', app.handler)`.
 */
export { createApp, type App, type AppParts, type AppOptions } from './app.js';
export { loadConfig, readEnv, ConfigError, type Config, type Env } from './config/index.js';
export { ProxyError, ERROR_CODES, type ErrorCode } from './errors.js';
export { createRequestHandler, type RequestHandler } from './http/server.js';
export type { ProcessingOptions, OutputFormat, ImageFormat } from './options.js';
export type { ImageRequest } from './request.js';
export type { BlobStore, BlobMeta, StorageBackend } from './storage/types.js';
