/**
 * Azure Blob Storage backend on the official @azure/storage-blob, imported only when an
 * ABS backend is created. Shared-key auth with an account key; without one,
 * DefaultAzureCredential (@azure/identity: managed identity, service principal via the
 * AZURE_* variables, workload identity…).
 *
 * Retries are bounded explicitly: the SDK default (4 tries, exponential up to 120 s) turns
 * an unreachable account into a multi-minute hang of every request.
 */
import type { Readable } from 'node:stream';
import type * as AzureSdk from '@azure/storage-blob';
import type { ContainerClient } from '@azure/storage-blob';
import { encodeUserMeta, openStore, parseHttpDate, revalidated, toBlobMeta, toReadable } from './common.js';
import { batchedDeleter } from './delete-many.js';
import type { BlobMeta, BlobStore, GetOptions, GetResult, ListItem, OpenOptions, PutMeta, StorageBackend } from './types.js';

export interface AbsBackendOptions {
  accountName: string;
  /** Shared key; empty/undefined → DefaultAzureCredential. */
  accountKey?: string;
  /** Blob endpoint; default `https://<account>.blob.core.windows.net` (Azurite: `http://host:port/<account>`). */
  endpoint?: string;
  /** Per-try timeout (ms). */
  requestTimeoutMs?: number;
  maxTries?: number;
  /** Block size for stream uploads. */
  blockSize?: number;
  listPageSize?: number;
}

interface RestErrorLike {
  statusCode?: number;
  code?: string;
}

function statusOf(err: unknown): number | undefined {
  return (err as RestErrorLike | null)?.statusCode;
}

function isMissing(err: unknown): boolean {
  const code = (err as RestErrorLike | null)?.code;
  return code === 'BlobNotFound' || (statusOf(err) === 404 && code !== 'ContainerNotFound');
}

/** Blob properties as both getProperties() and download() answer them. */
interface BlobHeaders {
  contentLength?: number;
  contentType?: string;
  etag?: string;
  lastModified?: Date;
  cacheControl?: string;
  contentEncoding?: string;
  metadata?: Record<string, string>;
}

/** Sub-requests per Blob Batch call (the service's maximum). */
const DELETE_BATCH = 256;

function metaOf(r: BlobHeaders): BlobMeta {
  return toBlobMeta({
    size: r.contentLength ?? 0,
    contentType: r.contentType,
    etag: r.etag,
    lastModified: r.lastModified,
    cacheControl: r.cacheControl,
    contentEncoding: r.contentEncoding,
    user: r.metadata,
  });
}

export async function createAbsBackend(opts: AbsBackendOptions): Promise<StorageBackend> {
  const sdk: typeof AzureSdk = await import('@azure/storage-blob');
  const url = (opts.endpoint || `https://${opts.accountName}.blob.core.windows.net`).replace(/\/+$/, '');
  const pipelineOpts: AzureSdk.StoragePipelineOptions = {
    retryOptions: {
      maxTries: opts.maxTries ?? 3,
      tryTimeoutInMs: opts.requestTimeoutMs ?? 60_000,
      retryDelayInMs: 200,
      maxRetryDelayInMs: 2000,
    },
  };
  let service: AzureSdk.BlobServiceClient;
  if (opts.accountKey) {
    service = new sdk.BlobServiceClient(url, new sdk.StorageSharedKeyCredential(opts.accountName, opts.accountKey), pipelineOpts);
  } else {
    const { DefaultAzureCredential } = await import('@azure/identity');
    service = new sdk.BlobServiceClient(url, new DefaultAzureCredential(), pipelineOpts);
  }
  const blockSize = opts.blockSize ?? 4 * 1024 * 1024;
  const pageSize = opts.listPageSize ?? 1000;

  return {
    kind: 'abs',
    open(container: string, prefix?: string, openOpts?: OpenOptions): BlobStore {
      const { name, pre, target, fail, found, result } = openStore('abs', container, prefix, statusOf, openOpts);
      const cc: ContainerClient = service.getContainerClient(container);

      async function deleteOne(key: string): Promise<void> {
        try {
          await cc.getBlobClient(pre + key).deleteIfExists();
        } catch (err) {
          fail('DELETE', key, err);
        }
      }

      const uploadOptions = (key: string, meta: PutMeta): AzureSdk.BlockBlobParallelUploadOptions => ({
        metadata: encodeUserMeta(key, meta, Date.now()),
        blobHTTPHeaders: {
          ...(meta.contentType ? { blobContentType: meta.contentType } : {}),
          ...(meta.cacheControl ? { blobCacheControl: meta.cacheControl } : {}),
        },
      });

      async function head(key: string): Promise<BlobMeta | null> {
        let props: BlobHeaders;
        try {
          props = await cc.getBlobClient(pre + key).getProperties();
        } catch (err) {
          if (isMissing(err)) return null;
          return fail('HEAD', key, err);
        }
        return found(key, metaOf(props));
      }

      return {
        name,
        head,

        async get(key: string, o: GetOptions = {}): Promise<GetResult> {
          let r: BlobHeaders & { readableStreamBody?: unknown };
          try {
            r = await cc.getBlobClient(pre + key).download(0, undefined, {
              ...(o.signal ? { abortSignal: o.signal } : {}),
              ...(o.ifNoneMatch ? { conditions: { ifNoneMatch: o.ifNoneMatch } } : parseHttpDate(o.ifModifiedSince) ? { conditions: { ifModifiedSince: parseHttpDate(o.ifModifiedSince) } } : {}),
            });
          } catch (err) {
            if (statusOf(err) === 304) return revalidated(() => head(key));
            if (isMissing(err)) return null;
            return fail('GET', key, err);
          }
          return result(key, metaOf(r), o, toReadable(r.readableStreamBody, `abs GET ${target(key)}`));
        },

        async put(key: string, body: Buffer | Readable, meta: PutMeta): Promise<void> {
          const options = uploadOptions(key, meta);
          const bb = cc.getBlockBlobClient(pre + key);
          try {
            // Blocks stay invisible until the block list is committed: readers never see a part.
            if (Buffer.isBuffer(body)) await bb.uploadData(body, options);
            else await bb.uploadStream(body, blockSize, 2, options);
          } catch (err) {
            if (!Buffer.isBuffer(body)) body.destroy();
            fail('PUT', key, err);
          }
        },

        async putIfAbsent(key: string, body: Buffer, meta: PutMeta): Promise<boolean> {
          // `If-None-Match: *` on Put Blob: 409 BlobAlreadyExists (or 412) when the blob exists
          // (https://learn.microsoft.com/rest/api/storageservices/specifying-conditional-headers-for-blob-service-operations).
          try {
            await cc.getBlockBlobClient(pre + key).uploadData(body, { ...uploadOptions(key, meta), conditions: { ifNoneMatch: '*' } });
            return true;
          } catch (err) {
            const status = statusOf(err);
            if (status === 409 || status === 412) return false;
            return fail('PUT', key, err);
          }
        },

        delete: deleteOne,

        // Blob Batch (https://learn.microsoft.com/rest/api/storageservices/blob-batch): up to
        // 256 deletes per call; a missing blob is a 404 sub-response, which is no error here.
        deleteMany: batchedDeleter(DELETE_BATCH, deleteOne, async (chunk) => {
          let failed: { status: number; errorCode?: string | undefined }[];
          try {
            const r = await cc.getBlobBatchClient().deleteBlobs(chunk.map((k) => cc.getBlobClient(pre + k)));
            failed = r.subResponses.filter((sub) => sub.status >= 300 && sub.status !== 404);
          } catch (err) {
            const status = statusOf(err);
            if (status !== 400 && status !== 404 && status !== 405 && status !== 501) fail('DELETE', `${chunk[0] ?? ''}…(${chunk.length} keys)`, err);
            return false;
          }
          if (failed.length > 0) {
            const first = failed[0];
            fail('DELETE', chunk[0] ?? '', Object.assign(new Error(`${failed.length} of ${chunk.length} blobs not deleted: ${first?.errorCode ?? ''}`), { statusCode: first?.status }));
          }
          return true;
        }),

        async *list(listPrefix = ''): AsyncIterable<ListItem> {
          const pages = cc.listBlobsFlat({ prefix: pre + listPrefix }).byPage({ maxPageSize: pageSize });
          for (;;) {
            let page;
            try {
              page = await pages.next();
            } catch (err) {
              return fail('LIST', `${listPrefix}*`, err);
            }
            if (page.done) return;
            for (const b of page.value.segment.blobItems) {
              yield { key: b.name.slice(pre.length), size: b.properties.contentLength ?? 0, mtime: b.properties.lastModified.getTime() };
            }
          }
        },
      };
    },
  };
}
