/**
 * Public surface of the package: everything exported here is intentional.
 *
 * - The server as an embeddable handler: `const app = await createApp(loadConfig());
 *   server.on('request', app.handler)` (or `app.listen()`).
 * - URLs for both dialects, signed with the server's keys: `createUrlSigner`, `imgproxyPath`,
 *   `previewproxyQuery`, and the two source-URL encryptions.
 * - Processing without a server: `createImageProcessor()(bytes, 'rs:fit:300:200/f:webp')`.
 */
import { createApp as createAppWithContext, type AppOptions, type BoundAddress } from './app.js';
import type { Config } from './config/index.js';
import type { RequestHandler } from './http/server.js';

export { loadConfig, readEnv, ConfigError, type Config, type Env } from './config/index.js';
export { ProxyError, ERROR_CODES, type ErrorCode } from './errors.js';
export type { AppOptions, BoundAddress } from './app.js';
export type { RequestHandler } from './http/server.js';
export type { Logger } from './observability/logger.js';
export { createUrlSigner, imgproxyPath, previewproxyQuery, type Dialect, type UrlSigner, type ImgproxyPathParts, type PreviewProxyQueryParts } from './url-signer.js';
export { encryptSourceUrl as encryptImgproxySourceUrl } from './dialects/imgproxy/encryption.js';
export { encryptSourceUrl as encryptPreviewProxySourceUrl } from './dialects/previewproxy/encryption.js';
export { createImageProcessor, type ImageProcessor, type ProcessContext, type ProcessResult } from './image-processor.js';
export type { OutputFormat, ImageFormat } from './formats.js';
export type { ProcessingOptions } from './options.js';

/** A running pixproxy: the `(req, res)` handler and its listener's lifecycle. */
export interface App {
  /** The embeddable `(req, res)` handler: mount it on any node:http server or framework. */
  readonly handler: RequestHandler;
  /** Listens on the configured address (IMGPROXY_BIND) or the given one; resolves the bound address. */
  listen(port?: number, host?: string): Promise<BoundAddress>;
  /** Stops accepting, lets in-flight requests finish (IMGPROXY_GRACEFUL_STOP_TIMEOUT), closes the stores. */
  close(): Promise<void>;
}

/** Builds the stores, cache, sources and handler from `config`. Rejects with ConfigError on a bad setting. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  // The composition root's context stays internal: embedders get the handler and lifecycle.
  const { handler, listen, close } = await createAppWithContext(config, options);
  return { handler, listen, close };
}
