/**
 * Sources for object-store URLs: `s3://bucket/key`, `gs://bucket/key`, `abs://container/blob`
 * and `swift://container/object`, each registered only when IMGPROXY_USE_S3/_GCS/_ABS/_SWIFT
 * is set (the registry answers 404 for the others and names the variable).
 *
 * URL grammar as imgproxy (fetcher/transport): the key is the raw text after `bucket/`, not
 * percent-decoded, so keys may hold `%`, `?` and `#`; IMGPROXY_SOURCE_URL_QUERY_SEPARATOR
 * (default `?`, empty disables) cuts an S3 version id / GCS generation off the key.
 * Bucket lists: when the allow list is non-empty a bucket must be on it, and any bucket on
 * the deny list is refused — deny wins when a bucket is on both (imgproxy's code; its docs
 * say the opposite).
 */
import type { Config } from '../config/index.js';
import { ppS3Bucket } from '../config/previewproxy-fields.js';
import { ProxyError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { previewProxyS3Factory, sourceBackendFactory, type ObjectStoreKind } from '../storage/index.js';
import type { BlobStore, GetResult, StorageBackend } from '../storage/types.js';
import { isNotModified } from '../storage/types.js';
import { decodeContentEncoding } from './content-encoding.js';
import { downloadDeadline } from './deadline.js';
import { bodyFailure, collect } from './stream.js';
import type { FetchOptions, Source, SourceResponse } from './types.js';

interface SchemeSpec {
  scheme: string;
  kind: ObjectStoreKind;
  /** Every allowed bucket is served (IMGPROXY_USE_*). */
  enabled: boolean;
  /** One bucket served by a client of its own, enabled or not (PreviewProxy's PP_S3_BUCKET). */
  dedicated?: { bucket: string; factory: () => Promise<StorageBackend> };
  allowed: readonly string[];
  denied: readonly string[];
  listVars: string;
}

export interface ParsedStorageUrl {
  bucket: string;
  key: string;
  /** Text after the query separator: S3 version id, GCS generation. */
  query: string;
}

/** Splits `scheme://bucket/key[<sep>query]` the way imgproxy does (no percent-decoding). */
export function parseStorageUrl(url: string, scheme: string, separator: string): ParsedStorageUrl | null {
  const head = `${scheme}://`;
  if (!url.toLowerCase().startsWith(head)) return null;
  const rest = url.slice(head.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let key = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+/, '');
  let query = '';
  if (separator !== '') {
    const i = key.indexOf(separator);
    if (i >= 0) {
      query = key.slice(i + separator.length);
      key = key.slice(0, i);
    }
  }
  return { bucket, key, query };
}

function bucketAllowed(bucket: string, allowed: readonly string[], denied: readonly string[]): boolean {
  if (denied.includes(bucket)) return false;
  return allowed.length === 0 || allowed.includes(bucket);
}

/**
 * `p`, or a rejection with the signal's reason as soon as it aborts. An entry that arrives
 * after the abort has its body destroyed, so the connection behind it is not left open.
 */
function untilAborted(p: Promise<GetResult>, signal: AbortSignal): Promise<GetResult> {
  if (signal.aborted) {
    void p.then(dropBody, () => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      void p.then(dropBody, () => undefined);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function dropBody(r: GetResult): void {
  if (r !== null && !isNotModified(r)) r.body.destroy();
}

/** A backend created on first use: the SDK is imported only when a URL needs it. */
function lazyBackend(factory: () => Promise<StorageBackend>): () => Promise<StorageBackend> {
  let backend: Promise<StorageBackend> | undefined;
  return () =>
    (backend ??= factory().catch((err: unknown) => {
      backend = undefined;
      throw err;
    }));
}

function storageSource(spec: SchemeSpec, config: Config, logger: Logger): Source {
  const shared = lazyBackend(sourceBackendFactory(spec.kind, config));
  const dedicated = spec.dedicated ? { bucket: spec.dedicated.bucket, backend: lazyBackend(spec.dedicated.factory) } : null;
  const separator = config.urls.sourceUrlQuerySeparator;
  const stores = new Map<string, BlobStore>();

  async function storeFor(bucket: string): Promise<BlobStore> {
    const b = await (bucket === dedicated?.bucket ? dedicated.backend() : shared());
    let s = stores.get(bucket);
    if (!s) {
      s = b.open(bucket);
      stores.set(bucket, s);
    }
    return s;
  }

  return {
    schemes: [spec.scheme],
    async fetch(url: string, opts: FetchOptions): Promise<SourceResponse> {
      const parsed = parseStorageUrl(url, spec.scheme, separator);
      if (!parsed || parsed.bucket === '' || parsed.key === '') {
        throw new ProxyError('INVALID_SOURCE_URL', `${spec.scheme} source URL needs a bucket and a key: ${url}`, { status: 404 });
      }
      const { bucket, key, query } = parsed;
      if (bucket !== dedicated?.bucket && !(spec.enabled && bucketAllowed(bucket, spec.allowed, spec.denied))) {
        throw new ProxyError('INVALID_SOURCE_URL', `${spec.scheme} bucket ${JSON.stringify(bucket)} is not allowed (${spec.listVars})`, { status: 404 });
      }
      const where = `${spec.scheme}://${bucket}/${key}`;
      const dl = downloadDeadline(where, opts.timeoutSeconds ?? config.download.downloadTimeout, opts.signal);
      const signal = dl.signal;
      const aborted = (err: unknown): ProxyError =>
        dl.reason() ?? (err instanceof ProxyError ? err : new ProxyError('SOURCE_UNREACHABLE', `${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      try {
        const store = await storeFor(bucket);
        // Raced against the signal as well as given it: not every client library lets every
        // call be aborted (GCS's metadata request takes no signal), and the answer must not
        // wait for them; what they still hold ends with their own request timeout.
        const r = await untilAborted(
          store.get(key, {
            signal,
            ...(opts.ifNoneMatch ? { ifNoneMatch: opts.ifNoneMatch } : {}),
            ...(opts.ifModifiedSince ? { ifModifiedSince: opts.ifModifiedSince } : {}),
            ...(query ? { version: query } : {}),
          }),
          signal,
        );
        if (r === null) throw new ProxyError('SOURCE_CLIENT_ERROR', `${where}: object not found`, { status: 404 });
        const meta = r.meta;
        const headers: Record<string, string> = {};
        if (meta.etag) headers['etag'] = meta.etag;
        if (meta.lastModified) headers['last-modified'] = meta.lastModified;
        if (meta.cacheControl) headers['cache-control'] = meta.cacheControl;
        if (meta.httpExpires) headers['expires'] = meta.httpExpires;
        if (meta.contentType) headers['content-type'] = meta.contentType;
        const validators = { ...(meta.etag ? { etag: meta.etag } : {}), ...(meta.lastModified ? { lastModified: meta.lastModified } : {}) };
        if (isNotModified(r)) return { status: 304, body: Buffer.alloc(0), headers, ...validators };
        if (opts.maxBytes > 0 && meta.size > opts.maxBytes) {
          r.body.destroy();
          throw new ProxyError('SOURCE_TOO_BIG', `${where}: ${meta.size} bytes, over the ${opts.maxBytes} allowed`);
        }
        // An object stored with a Content-Encoding (S3 and Azure hand it over encoded; GCS's
        // client and Swift's fetch decode it themselves) is decoded as an http body is. The
        // limit is enforced while reading too, on the decoded bytes: the stored size is the
        // encoded one, and may be absent or wrong.
        const dec = decodeContentEncoding(r.body, meta.contentEncoding, where);
        const body = await collect(dec.body, { maxBytes: opts.maxBytes, url: where, signal, mapError: (err, bytes) => bodyFailure(aborted(err), err, bytes, where) });
        return { status: 200, body, headers, ...validators, ...(meta.contentType ? { contentType: meta.contentType } : {}) };
      } catch (err) {
        const e = aborted(err);
        if (e.status >= 500 || e.code === 'SOURCE_UNREACHABLE') logger.warn({ bucket, err: e.message }, 'storage source failed');
        throw e;
      } finally {
        dl.release();
      }
    },
  };
}

/**
 * The storage sources enabled by the configuration (loadConfig has already refused an enabled
 * scheme without its required variables, e.g. IMGPROXY_ABS_NAME).
 */
export function createStorageSources(config: Config, logger: Logger): Source[] {
  const s = config.storage;
  const specs: SchemeSpec[] = [
    { scheme: 's3', kind: 's3', enabled: s.useS3, allowed: s.s3AllowedBuckets, denied: s.s3DeniedBuckets, listVars: 'IMGPROXY_S3_ALLOWED_BUCKETS / IMGPROXY_S3_DENIED_BUCKETS' },
    { scheme: 'gs', kind: 'gcs', enabled: s.useGcs, allowed: s.gcsAllowedBuckets, denied: s.gcsDeniedBuckets, listVars: 'IMGPROXY_GCS_ALLOWED_BUCKETS / IMGPROXY_GCS_DENIED_BUCKETS' },
    { scheme: 'abs', kind: 'abs', enabled: s.useAbs, allowed: s.absAllowedBuckets, denied: s.absDeniedBuckets, listVars: 'IMGPROXY_ABS_ALLOWED_BUCKETS / IMGPROXY_ABS_DENIED_BUCKETS' },
    { scheme: 'swift', kind: 'swift', enabled: s.useSwift, allowed: s.swiftAllowedBuckets, denied: s.swiftDeniedBuckets, listVars: 'IMGPROXY_SWIFT_ALLOWED_BUCKETS / IMGPROXY_SWIFT_DENIED_BUCKETS' },
  ];
  const ppBucket = ppS3Bucket(config.previewproxy);
  const s3 = specs.find((sp) => sp.kind === 's3');
  // PreviewProxy's `s3:/key` sources arrive as s3://<PP_S3_BUCKET>/key (src/dialects/previewproxy/source.ts).
  if (ppBucket !== null && s3) s3.dedicated = { bucket: ppBucket, factory: previewProxyS3Factory(config) };
  return specs.filter((sp) => sp.enabled || sp.dedicated).map((sp) => storageSource(sp, config, logger.child({ module: 'storage-source', scheme: sp.scheme })));
}
