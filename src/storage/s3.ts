/**
 * S3 (and S3-compatible: Swift s3api, MinIO, R2, Ceph RGW…) backend on the official
 * @aws-sdk/client-s3, imported only when an S3 backend is created.
 *
 * Custom endpoints get `requestChecksumCalculation`/`responseChecksumValidation:
 * 'WHEN_REQUIRED'`: with the SDK default, stream uploads go out `aws-chunked` with a trailing
 * CRC32, which s3rver stores verbatim (corrupt) and Swift's s3api refuses (501).
 * Stream uploads are multipart in fixed-size parts (memory bounded by one part) because
 * PutObject needs a Content-Length; anything smaller than a part is a single PutObject.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { HeadObjectCommandOutput, PutObjectCommandInput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ConditionalWriteUnsupportedError, encodeUserMeta, openStore, parseHttpDate, revalidated, toBlobMeta, toReadable } from './common.js';
import { batchedDeleter } from './delete-many.js';
import type { BlobMeta, BlobStore, GetOptions, GetResult, ListItem, OpenOptions, PutMeta, StorageBackend } from './types.js';

export interface S3BackendOptions {
  region: string;
  /** Custom endpoint; `http://` is added when the scheme is missing (as imgproxy does). */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Explicit keys; otherwise the SDK's default credential chain (env, profile, IMDS, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  /** Multipart part size for stream uploads (≥ 5 MiB, S3's minimum). */
  partSize?: number;
  listPageSize?: number;
}

type S3Module = typeof S3Sdk;

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

function isMissing(err: unknown): boolean {
  const name = (err as SdkError | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(err) === 404 && name !== 'NoSuchBucket');
}

/** HeadObject and GetObject answer the same metadata fields. */
type ObjectHeaders = Pick<HeadObjectCommandOutput, 'ContentLength' | 'ContentType' | 'ETag' | 'LastModified' | 'CacheControl' | 'ExpiresString' | 'Expires' | 'Metadata' | 'ContentEncoding'>;

function metaOf(r: ObjectHeaders): BlobMeta {
  return toBlobMeta({
    size: r.ContentLength ?? 0,
    contentType: r.ContentType,
    etag: r.ETag,
    lastModified: r.LastModified,
    cacheControl: r.CacheControl,
    httpExpires: r.ExpiresString ?? r.Expires,
    contentEncoding: r.ContentEncoding,
    user: r.Metadata,
  });
}

/** Keys per DeleteObjects call (S3's maximum). */
const DELETE_BATCH = 1000;

/** The serialised request a build-step middleware sees (smithy's HttpRequest, structurally). */
interface BuiltRequest {
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * DeleteObjects must carry Content-MD5 (or a checksum header several S3-compatibles do not
 * know): SDK v3 no longer sends it, so it is added from the serialised XML body.
 */
function withContentMd5(command: { middlewareStack: { add(mw: unknown, opts: { step: 'build'; name: string; priority: 'low' }): void } }): void {
  command.middlewareStack.add(
    (next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      const req = args.request as BuiltRequest;
      if (req && typeof req.body === 'string') req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
      return next(args);
    },
    { step: 'build', name: 'pixproxyContentMd5', priority: 'low' },
  );
}

/** The backend does not implement DeleteObjects (or refuses it as we send it): fall back to single deletes. */
function batchUnsupported(err: unknown): boolean {
  const status = statusOf(err);
  const name = (err as SdkError | null)?.name ?? '';
  return status === 501 || status === 405 || name === 'NotImplemented' || name === 'MissingContentMD5' || name === 'InvalidRequest';
}

function normalizeS3Endpoint(endpoint: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
}

export async function createS3Backend(opts: S3BackendOptions): Promise<StorageBackend> {
  const sdk: S3Module = await import('@aws-sdk/client-s3');
  const config: S3ClientConfig = {
    region: opts.region,
    forcePathStyle: opts.forcePathStyle ?? true,
    maxAttempts: opts.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: opts.connectTimeoutMs ?? 10_000, requestTimeout: opts.requestTimeoutMs ?? 60_000 },
  };
  if (opts.endpoint) {
    config.endpoint = normalizeS3Endpoint(opts.endpoint);
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  if (opts.credentials) config.credentials = opts.credentials;
  const client: S3Client = new sdk.S3Client(config);
  const partSize = Math.max(opts.partSize ?? 8 * 1024 * 1024, 5 * 1024 * 1024);
  const pageSize = opts.listPageSize ?? 1000;

  return {
    kind: 's3',
    open(bucket: string, prefix?: string, openOpts?: OpenOptions): BlobStore {
      const { name, pre, target, fail, found, result } = openStore('s3', bucket, prefix, statusOf, openOpts);

      async function head(key: string, version?: string): Promise<BlobMeta | null> {
        let r: HeadObjectCommandOutput;
        try {
          r = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: pre + key, ...(version ? { VersionId: version } : {}) }));
        } catch (err) {
          if (isMissing(err)) return null;
          return fail('HEAD', key, err);
        }
        return found(key, metaOf(r));
      }

      async function deleteOne(key: string): Promise<void> {
        try {
          await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: pre + key }));
        } catch (err) {
          if (isMissing(err)) return;
          fail('DELETE', key, err);
        }
      }

      function objectHeaders(key: string, meta: PutMeta): Pick<PutObjectCommandInput, 'Metadata' | 'ContentType' | 'CacheControl' | 'Expires'> {
        const expires = parseHttpDate(meta.httpExpires);
        return {
          Metadata: encodeUserMeta(key, meta, Date.now()),
          ...(meta.contentType ? { ContentType: meta.contentType } : {}),
          ...(meta.cacheControl ? { CacheControl: meta.cacheControl } : {}),
          ...(expires ? { Expires: expires } : {}),
        };
      }

      async function putMultipart(key: string, first: Buffer, rest: AsyncIterator<Buffer>, common: ReturnType<typeof objectHeaders>): Promise<void> {
        const created = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: pre + key, ...common }));
        const uploadId = created.UploadId;
        const parts: { ETag: string | undefined; PartNumber: number }[] = [];
        try {
          let part: Buffer | undefined = first;
          for (let n = 1; part; n++) {
            const r = await client.send(new sdk.UploadPartCommand({ Bucket: bucket, Key: pre + key, UploadId: uploadId, PartNumber: n, Body: part, ContentLength: part.length }));
            parts.push({ ETag: r.ETag, PartNumber: n });
            const next = await rest.next();
            part = next.done ? undefined : next.value;
          }
          await client.send(new sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: pre + key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
        } catch (err) {
          // Nothing becomes visible before Complete; abort so the parts are not billed.
          await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: pre + key, UploadId: uploadId })).catch(() => undefined);
          throw err;
        }
      }

      /** Re-chunks a stream into parts of exactly partSize (the last one shorter). */
      async function* parts(body: Readable): AsyncGenerator<Buffer> {
        let buf: Buffer[] = [];
        let n = 0;
        for await (const c of body) {
          let b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
          while (n + b.length >= partSize) {
            const take = partSize - n;
            buf.push(b.subarray(0, take));
            yield Buffer.concat(buf);
            buf = [];
            n = 0;
            b = b.subarray(take);
          }
          if (b.length > 0) {
            buf.push(b);
            n += b.length;
          }
        }
        if (n > 0 || buf.length > 0) yield Buffer.concat(buf);
      }

      return {
        name,
        head: (key) => head(key),

        async get(key: string, o: GetOptions = {}): Promise<GetResult> {
          let r: ObjectHeaders & { Body?: unknown };
          try {
            r = await client.send(
              new sdk.GetObjectCommand({
                Bucket: bucket,
                Key: pre + key,
                ...(o.version ? { VersionId: o.version } : {}),
                ...(o.ifNoneMatch ? { IfNoneMatch: o.ifNoneMatch } : parseHttpDate(o.ifModifiedSince) ? { IfModifiedSince: parseHttpDate(o.ifModifiedSince) } : {}),
              }),
              o.signal ? { abortSignal: o.signal } : {},
            );
          } catch (err) {
            if (statusOf(err) === 304) return revalidated(() => head(key, o.version));
            if (isMissing(err)) return null;
            return fail('GET', key, err);
          }
          return result(key, metaOf(r), o, toReadable(r.Body, `s3 GET ${target(key)}`));
        },

        async put(key: string, body: Buffer | Readable, meta: PutMeta): Promise<void> {
          const common = objectHeaders(key, meta);
          try {
            if (Buffer.isBuffer(body)) {
              await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: pre + key, Body: body, ContentLength: body.length, ...common }));
              return;
            }
            const it = parts(body);
            const first = await it.next();
            const second = first.done ? first : await it.next();
            if (first.done || second.done) {
              const one = first.done ? Buffer.alloc(0) : first.value;
              await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: pre + key, Body: one, ContentLength: one.length, ...common }));
              return;
            }
            const pending = second.value;
            async function* tail(): AsyncGenerator<Buffer> {
              yield pending;
              yield* it;
            }
            await putMultipart(key, first.value, tail(), common);
          } catch (err) {
            if (!Buffer.isBuffer(body)) body.destroy();
            fail('PUT', key, err);
          }
        },

        async putIfAbsent(key: string, body: Buffer, meta: PutMeta): Promise<boolean> {
          // S3 conditional writes: 412 when the key exists, 409 when a concurrent conditional
          // write of it is in progress (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
          try {
            await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: pre + key, Body: body, ContentLength: body.length, IfNoneMatch: '*', ...objectHeaders(key, meta) }));
            return true;
          } catch (err) {
            const status = statusOf(err);
            if (status === 412 || status === 409) return false;
            if (status === 501) throw new ConditionalWriteUnsupportedError(name, `PUT ${target(key)} with If-None-Match: * answered 501`);
            return fail('PUT', key, err);
          }
        },

        delete: deleteOne,

        deleteMany: batchedDeleter(DELETE_BATCH, deleteOne, async (chunk) => {
          const command = new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk.map((k) => ({ Key: pre + k })), Quiet: true } });
          withContentMd5(command as unknown as Parameters<typeof withContentMd5>[0]);
          let errors: { Key?: string | undefined; Code?: string | undefined; Message?: string | undefined }[];
          try {
            errors = (await client.send(command)).Errors ?? [];
          } catch (err) {
            if (!batchUnsupported(err)) fail('DELETE', `${chunk[0] ?? ''}…(${chunk.length} keys)`, err);
            return false;
          }
          const failed = errors.filter((e) => e.Code !== 'NoSuchKey');
          if (failed.length > 0) {
            const first = failed[0];
            fail('DELETE', (first?.Key ?? '').slice(pre.length), new Error(`${failed.length} of ${chunk.length} keys not deleted: ${first?.Code ?? ''} ${first?.Message ?? ''}`));
          }
          return true;
        }),

        async *list(listPrefix = ''): AsyncIterable<ListItem> {
          let token: string | undefined;
          do {
            let r;
            try {
              r = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: pre + listPrefix, MaxKeys: pageSize, ...(token ? { ContinuationToken: token } : {}) }));
            } catch (err) {
              return fail('LIST', `${listPrefix}*`, err);
            }
            for (const o of r.Contents ?? []) {
              if (o.Key === undefined) continue;
              yield { key: o.Key.slice(pre.length), size: o.Size ?? 0, ...(o.LastModified ? { mtime: o.LastModified.getTime() } : {}) };
            }
            token = r.IsTruncated ? r.NextContinuationToken : undefined;
          } while (token);
        },
      };
    },
    async close(): Promise<void> {
      client.destroy();
    },
  };
}
