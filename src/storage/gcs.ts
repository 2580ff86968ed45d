/**
 * Google Cloud Storage backend on the official @google-cloud/storage (v7: v8 needs Node 22),
 * imported only when a GCS backend is created. Credentials: the service-account key JSON
 * (IMGPROXY_GCS_KEY) when given, else Application Default Credentials; a custom endpoint
 * without a key (emulators, private gateways) goes unauthenticated, as in imgproxy.
 *
 * A read takes the metadata first (expiry and conditionals are decided before any byte is
 * downloaded; the JSON API has no If-None-Match on media), then streams that very
 * generation so body and metadata always belong together.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as GcsSdk from '@google-cloud/storage';
import type { Bucket, File, FileMetadata, SaveOptions, StorageOptions } from '@google-cloud/storage';
import { ProxyError } from '../errors.js';
import { encodeUserMeta, openStore, toBlobMeta } from './common.js';
import type { BlobMeta, BlobStore, GetOptions, GetResult, ListItem, OpenOptions, PutMeta, StorageBackend } from './types.js';

export interface GcsBackendOptions {
  /** Service-account key JSON (the file's contents). */
  keyJson?: string;
  /** e.g. `http://127.0.0.1:9199` for an emulator. */
  endpoint?: string;
  projectId?: string;
  requestTimeoutMs?: number;
  maxRetries?: number;
  listPageSize?: number;
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function userMeta(m: FileMetadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.metadata ?? {})) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

function toMeta(m: FileMetadata): BlobMeta {
  return toBlobMeta({
    size: Number(m.size ?? 0),
    contentType: m.contentType,
    etag: m.etag,
    lastModified: m.updated ? new Date(m.updated) : undefined,
    cacheControl: m.cacheControl,
    user: userMeta(m),
  });
}

export async function createGcsBackend(opts: GcsBackendOptions): Promise<StorageBackend> {
  const sdk: typeof GcsSdk = await import('@google-cloud/storage');
  const config: StorageOptions = {
    retryOptions: { autoRetry: true, maxRetries: opts.maxRetries ?? 2, totalTimeout: Math.ceil((opts.requestTimeoutMs ?? 60_000) / 1000) },
    timeout: opts.requestTimeoutMs ?? 60_000,
  };
  if (opts.endpoint) config.apiEndpoint = opts.endpoint.replace(/\/+$/, '');
  if (opts.projectId) config.projectId = opts.projectId;
  if (opts.keyJson) {
    let key: { project_id?: string; client_email?: string; private_key?: string };
    try {
      key = JSON.parse(opts.keyJson) as typeof key;
    } catch {
      throw new ProxyError('INTERNAL', 'GCS key: expected a service-account key JSON');
    }
    config.credentials = key;
    if (!config.projectId && key.project_id) config.projectId = key.project_id;
    config.useAuthWithCustomEndpoint = true;
  } else if (opts.endpoint) {
    config.useAuthWithCustomEndpoint = false;
  }
  const storage = new sdk.Storage(config);
  const pageSize = opts.listPageSize ?? 1000;

  return {
    kind: 'gcs',
    open(bucketName: string, prefix?: string, openOpts?: OpenOptions): BlobStore {
      const { name, pre, target, fail, found, result } = openStore('gcs', bucketName, prefix, statusOf, openOpts);
      const bucket: Bucket = storage.bucket(bucketName);
      const file = (key: string, generation?: string | number): File => {
        const g = generation === undefined ? NaN : Number(generation);
        return Number.isInteger(g) && g > 0 ? bucket.file(pre + key, { generation: g }) : bucket.file(pre + key);
      };

      const saveOptions = (key: string, meta: PutMeta): SaveOptions => ({
        resumable: false,
        metadata: {
          ...(meta.contentType ? { contentType: meta.contentType } : {}),
          ...(meta.cacheControl ? { cacheControl: meta.cacheControl } : {}),
          metadata: encodeUserMeta(key, meta, Date.now()),
        },
      });

      async function metadata(key: string, version?: string): Promise<FileMetadata | null> {
        try {
          const [m] = await file(key, version).getMetadata();
          return m;
        } catch (err) {
          if (statusOf(err) === 404) return null;
          return fail('HEAD', key, err);
        }
      }

      return {
        name,

        async head(key: string): Promise<BlobMeta | null> {
          const m = await metadata(key);
          return m ? found(key, toMeta(m)) : null;
        },

        async get(key: string, o: GetOptions = {}): Promise<GetResult> {
          const m = await metadata(key, o.version);
          if (!m) return null;
          return result(key, toMeta(m), o, () => {
            const body = file(key, m.generation).createReadStream();
            if (o.signal) {
              const signal = o.signal;
              const onAbort = (): void => {
                body.destroy(new ProxyError('CANCELLED', `gcs GET ${target(key)}: aborted`));
              };
              if (signal.aborted) onAbort();
              else signal.addEventListener('abort', onAbort, { once: true });
              body.once('close', () => signal.removeEventListener('abort', onAbort));
            }
            return body;
          });
        },

        async put(key: string, body: Buffer | Readable, meta: PutMeta): Promise<void> {
          const options = saveOptions(key, meta);
          try {
            // An object appears only when its upload completes: readers never see a part.
            if (Buffer.isBuffer(body)) await file(key).save(body, options);
            else await pipeline(body, file(key).createWriteStream(options));
          } catch (err) {
            fail('PUT', key, err);
          }
        },

        async putIfAbsent(key: string, body: Buffer, meta: PutMeta): Promise<boolean> {
          // Generation 0 matches only an object that does not exist: 412 otherwise
          // (https://cloud.google.com/storage/docs/request-preconditions#special-case).
          try {
            await file(key).save(body, { ...saveOptions(key, meta), preconditionOpts: { ifGenerationMatch: 0 } });
            return true;
          } catch (err) {
            if (statusOf(err) === 412) return false;
            return fail('PUT', key, err);
          }
        },

        async delete(key: string): Promise<void> {
          try {
            await file(key).delete({ ignoreNotFound: true });
          } catch (err) {
            fail('DELETE', key, err);
          }
        },

        async *list(listPrefix = ''): AsyncIterable<ListItem> {
          let pageToken: string | undefined;
          do {
            let files: File[];
            let next: { pageToken?: string } | null | undefined;
            try {
              [files, next] = (await bucket.getFiles({ prefix: pre + listPrefix, autoPaginate: false, maxResults: pageSize, ...(pageToken ? { pageToken } : {}) })) as [File[], { pageToken?: string } | null, unknown];
            } catch (err) {
              return fail('LIST', `${listPrefix}*`, err);
            }
            for (const f of files) {
              const updated = f.metadata.updated ? Date.parse(f.metadata.updated) : NaN;
              yield { key: f.name.slice(pre.length), size: Number(f.metadata.size ?? 0), ...(Number.isNaN(updated) ? {} : { mtime: updated }) };
            }
            pageToken = next?.pageToken;
          } while (pageToken);
        },
      };
    },
  };
}
