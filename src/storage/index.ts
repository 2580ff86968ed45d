/**
 * Builds object-store backends from the frozen Config: the L2 cache adapter
 * (IMGPROXY_CACHE_USE=s3|gcs|abs|swift with the IMGPROXY_CACHE_* variables) and, through
 * `sourceBackendFactory`, the backends behind the s3:// gs:// abs:// swift:// sources.
 * Each SDK is imported only by the factory of a backend that is actually configured.
 * `fs` lives in ./fs.ts and is composed by the app, so 'fs' and 'none' answer null here.
 * The settings arrive validated: loadConfig (src/config/backends.ts) refuses a backend in use
 * without its required settings before anything starts.
 */
import type { ObjectStoreKind } from '../config/backend-fields.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import { requireOptional } from '../optional-package.js';
import type { StorageBackend } from './types.js';

export type { ObjectStoreKind } from '../config/backend-fields.js';

export interface CacheBackend {
  backend: StorageBackend;
  bucket: string;
  prefix: string;
}

function s3Credentials(config: Config): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  const s = config.storage;
  if (!s.awsAccessKeyId || !s.awsSecretAccessKey) return undefined;
  return { accessKeyId: s.awsAccessKeyId, secretAccessKey: s.awsSecretAccessKey, ...(s.awsSessionToken ? { sessionToken: s.awsSessionToken } : {}) };
}

interface SwiftSettings {
  authUrl: string;
  username: string;
  apiKey: string;
  authVersion: number;
  tenant: string;
  domain: string;
  connectTimeoutSeconds: number;
  timeoutSeconds: number;
}

/** The factory of a backend from its (validated) settings. */
function backendFactory(
  kind: ObjectStoreKind,
  config: Config,
  which: 'source' | 'cache',
): () => Promise<StorageBackend> {
  const s = config.storage;
  const cache = which === 'cache';
  const enabledBy = cache ? `IMGPROXY_CACHE_USE=${kind}` : `IMGPROXY_USE_${kind.toUpperCase()}`;
  // A client's own bound, whichever dialect asks; each download's deadline is the request's.
  const timeoutMs = cache ? undefined : Math.max(config.download.downloadTimeout, config.previewproxy.fetchTimeout) * 1000;
  switch (kind) {
    case 's3': {
      const endpoint = cache ? s.cacheS3Endpoint : s.s3Endpoint;
      const region = cache ? s.cacheS3Region : s.s3Region;
      const forcePathStyle = cache ? s.cacheS3EndpointUsePathStyle : s.s3EndpointUsePathStyle;
      const credentials = s3Credentials(config);
      requireOptional('@aws-sdk/client-s3', enabledBy);
      return async () => {
        const { createS3Backend } = await import('./s3.js');
        return createS3Backend({ region, forcePathStyle, ...(endpoint ? { endpoint } : {}), ...(credentials ? { credentials } : {}), ...(timeoutMs ? { requestTimeoutMs: timeoutMs } : {}) });
      };
    }
    case 'gcs': {
      const keyJson = cache ? s.cacheGcsKey : s.gcsKey;
      const endpoint = cache ? s.cacheGcsEndpoint : s.gcsEndpoint;
      requireOptional('@google-cloud/storage', enabledBy);
      return async () => {
        const { createGcsBackend } = await import('./gcs.js');
        return createGcsBackend({ ...(keyJson ? { keyJson } : {}), ...(endpoint ? { endpoint } : {}), ...(timeoutMs ? { requestTimeoutMs: timeoutMs } : {}) });
      };
    }
    case 'abs': {
      const accountName = cache ? s.cacheAbsName : s.absName;
      const accountKey = cache ? s.cacheAbsKey : s.absKey;
      const endpoint = cache ? s.cacheAbsEndpoint : s.absEndpoint;
      requireOptional('@azure/storage-blob', enabledBy);
      // Without an account key, abs.ts authenticates with DefaultAzureCredential.
      if (!accountKey) requireOptional('@azure/identity', `${enabledBy} without ${cache ? 'IMGPROXY_CACHE_ABS_KEY' : 'IMGPROXY_ABS_KEY'}`);
      return async () => {
        const { createAbsBackend } = await import('./abs.js');
        return createAbsBackend({ accountName, ...(accountKey ? { accountKey } : {}), ...(endpoint ? { endpoint } : {}), ...(timeoutMs ? { requestTimeoutMs: timeoutMs } : {}) });
      };
    }
    case 'swift': {
      const sw: SwiftSettings = cache
        ? { authUrl: s.cacheSwiftAuthUrl, username: s.cacheSwiftUsername, apiKey: s.cacheSwiftApiKey, authVersion: s.cacheSwiftAuthVersion, tenant: s.cacheSwiftTenant, domain: s.cacheSwiftDomain, connectTimeoutSeconds: s.cacheSwiftConnectTimeoutSeconds, timeoutSeconds: s.cacheSwiftTimeoutSeconds }
        : { authUrl: s.swiftAuthUrl, username: s.swiftUsername, apiKey: s.swiftApiKey, authVersion: s.swiftAuthVersion, tenant: s.swiftTenant, domain: s.swiftDomain, connectTimeoutSeconds: s.swiftConnectTimeoutSeconds, timeoutSeconds: s.swiftTimeoutSeconds };
      return async () => {
        const { createSwiftBackend } = await import('./swift.js');
        return createSwiftBackend({
          authUrl: sw.authUrl,
          username: sw.username,
          apiKey: sw.apiKey,
          authVersion: sw.authVersion,
          ...(sw.tenant ? { tenant: sw.tenant } : {}),
          ...(sw.domain ? { domain: sw.domain } : {}),
          connectTimeoutMs: sw.connectTimeoutSeconds * 1000,
          timeoutMs: sw.timeoutSeconds * 1000,
        });
      };
    }
  }
}

/**
 * The client of PreviewProxy's one S3 bucket (PP_S3_*), as PreviewProxy builds it
 * (src/modules/proxy/sources/s3.rs, https://github.com/ViGrise/previewproxy): its own region,
 * endpoint (path-style when set) and static keys, whatever IMGPROXY_S3_* say.
 */
export function previewProxyS3Factory(config: Config): () => Promise<StorageBackend> {
  const pp = config.previewproxy;
  const credentials = pp.s3AccessKeyId && pp.s3SecretAccessKey ? { accessKeyId: pp.s3AccessKeyId, secretAccessKey: pp.s3SecretAccessKey } : undefined;
  const requestTimeoutMs = pp.fetchTimeout * 1000;
  return async () => {
    const { createS3Backend } = await import('./s3.js');
    return createS3Backend({ region: pp.s3Region, forcePathStyle: pp.s3Endpoint !== '', ...(pp.s3Endpoint ? { endpoint: pp.s3Endpoint } : {}), ...(credentials ? { credentials } : {}), requestTimeoutMs });
  };
}

/** Backend factory for a source scheme. */
export function sourceBackendFactory(kind: ObjectStoreKind, config: Config): () => Promise<StorageBackend> {
  return backendFactory(kind, config, 'source');
}

/**
 * The object-store settings of the L2 cache, validated without any I/O (a missing variable or
 * SDK throws ConfigError), or null for fs/none. `pixproxy config check` calls it too.
 */
export function cacheBackendFactory(config: Config): { use: ObjectStoreKind; bucket: string; factory: () => Promise<StorageBackend> } | null {
  const use = config.cache.use;
  if (use !== 's3' && use !== 'gcs' && use !== 'abs' && use !== 'swift') return null;
  // loadConfig (src/config/backends.ts) refuses an object-store cache without a bucket.
  const bucket = config.cache.bucket;
  return { use, bucket, factory: backendFactory(use, config, 'cache') };
}

/**
 * The L2 cache backend for IMGPROXY_CACHE_USE=s3|gcs|abs|swift, or null for fs/none.
 * The caller wraps the opened store with `withResilience` (./resilient.ts) so a slow or
 * dead backend never delays requests.
 */
export async function createCacheBackend(config: Config, logger: Logger): Promise<CacheBackend | null> {
  const cache = cacheBackendFactory(config);
  if (cache === null) return null;
  const { use, bucket } = cache;
  const backend = await cache.factory();
  logger.info({ module: 'storage', backend: use, bucket, prefix: config.cache.pathPrefix }, 'cache backend ready');
  return { backend, bucket, prefix: config.cache.pathPrefix };
}
