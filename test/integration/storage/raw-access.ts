/**
 * Raw access to the conformance bucket of each real storage server, with the vendor's own
 * SDK (Swift: plain HTTP), bypassing pixproxy's adapters: copy an object as it is (body and
 * user metadata, as a restore or a copy between buckets does) and write one without any of
 * pixproxy's metadata. Keys are the store's; the conformance prefix is prepended here.
 */
import { CONFORMANCE_PREFIX, type RawAccess } from './conformance.js';
import { swiftSession, type AzuriteServer, type GcsServer, type SwiftServer } from './servers.js';

const BUCKET = 'conformance';
const name = (key: string): string => `${CONFORMANCE_PREFIX}/${key}`;

export async function s3Raw(s: SwiftServer): Promise<RawAccess & { close(): void }> {
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({ endpoint: s.endpoint, region: s.s3.region, forcePathStyle: true, credentials: s.s3, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  return {
    async copy(from, to) {
      // Server-side copy; the metadata goes with it (MetadataDirective COPY).
      const source = `${BUCKET}/${name(from).split('/').map(encodeURIComponent).join('/')}`;
      await client.send(new sdk.CopyObjectCommand({ Bucket: BUCKET, Key: name(to), CopySource: source, MetadataDirective: 'COPY' }));
    },
    async putKeyless(key, body) {
      await client.send(new sdk.PutObjectCommand({ Bucket: BUCKET, Key: name(key), Body: body, ContentType: 'image/png' }));
    },
    close: () => client.destroy(),
  };
}

export async function gcsRaw(g: GcsServer): Promise<RawAccess> {
  const { Storage } = await import('@google-cloud/storage');
  const bucket = new Storage({ apiEndpoint: g.endpoint, projectId: g.projectId, useAuthWithCustomEndpoint: false }).bucket(BUCKET);
  return {
    async copy(from, to) {
      // Download and upload with the same metadata: the emulator's server-side rewrite is partial.
      const src = bucket.file(name(from));
      const [[data], [meta]] = await Promise.all([src.download(), src.getMetadata()]);
      await bucket.file(name(to)).save(data, { resumable: false, metadata: { ...(meta.contentType ? { contentType: meta.contentType } : {}), metadata: meta.metadata ?? {} } });
    },
    async putKeyless(key, body) {
      await bucket.file(name(key)).save(body, { resumable: false, contentType: 'image/png' });
    },
  };
}

export async function absRaw(a: AzuriteServer): Promise<RawAccess> {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const cc = new BlobServiceClient(a.endpoint, new StorageSharedKeyCredential(a.accountName, a.accountKey)).getContainerClient(BUCKET);
  return {
    async copy(from, to) {
      const src = cc.getBlobClient(name(from));
      const [data, props] = await Promise.all([src.downloadToBuffer(), src.getProperties()]);
      await cc.getBlockBlobClient(name(to)).uploadData(data, { metadata: props.metadata ?? {}, blobHTTPHeaders: { ...(props.contentType ? { blobContentType: props.contentType } : {}) } });
    },
    async putKeyless(key, body) {
      await cc.getBlockBlobClient(name(key)).uploadData(body, { blobHTTPHeaders: { blobContentType: 'image/png' } });
    },
  };
}

export function swiftRaw(s: SwiftServer): RawAccess {
  const path = (key: string): string => `/${BUCKET}/${name(key).split('/').map(encodeURIComponent).join('/')}`;
  const call = async (method: string, key: string, init: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<void> => {
    const { token, storageUrl } = await swiftSession(s);
    const r = await fetch(`${storageUrl}${path(key)}`, { method, headers: { 'x-auth-token': token, ...init.headers }, ...(init.body ? { body: init.body } : {}) });
    await r.body?.cancel();
    if (!r.ok) throw new Error(`swift ${method} ${key}: ${r.status}`);
  };
  return {
    // Server-side copy: X-Copy-From keeps the source's X-Object-Meta-* (Swift's documented behaviour).
    copy: (from, to) => call('PUT', to, { body: Buffer.alloc(0), headers: { 'x-copy-from': path(from) } }),
    putKeyless: (key, body) => call('PUT', key, { body, headers: { 'content-type': 'image/png' } }),
  };
}
