/**
 * PreviewProxy's `s3:/key` sources configured with PreviewProxy's own variables only
 * (PP_S3_BUCKET, PP_S3_ENDPOINT, PP_S3_REGION, PP_S3_ACCESS_KEY_ID/SECRET: Configuration::new
 * and sources/s3.rs, https://github.com/ViGrise/previewproxy), against a real S3 (Swift
 * SAIO's s3api), with no IMGPROXY_S3_* or IMGPROXY_USE_S3 set.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { createS3Bucket, requireOrSkip, startSwift, type SwiftServer } from './storage/servers.js';

const skip = requireOrSkip('swift');
const BUCKET = 'pp-images';

describe.skipIf(skip !== undefined)('PP_S3_* sources', () => {
  let swift: SwiftServer;
  let px: RunningApp;
  let photo: Buffer;

  beforeAll(async () => {
    swift = await startSwift();
    await createS3Bucket(swift, BUCKET);
    await createS3Bucket(swift, 'other');
    photo = await makePhoto(120, 90);
    const sdk = await import('@aws-sdk/client-s3');
    const client = new sdk.S3Client({ endpoint: swift.endpoint, region: swift.s3.region, forcePathStyle: true, credentials: swift.s3, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    try {
      for (const [bucket, key] of [[BUCKET, 'dir/pic.jpg'], ['other', 'pic.jpg']] as const) {
        await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: photo, ContentType: 'image/jpeg' }));
      }
    } finally {
      client.destroy();
    }
    px = await startApp({
      PIXPROXY_PATH_DIALECT: 'previewproxy',
      PP_S3_ENABLED: 'true',
      PP_S3_BUCKET: BUCKET,
      PP_S3_ENDPOINT: swift.endpoint,
      PP_S3_REGION: swift.s3.region,
      PP_S3_ACCESS_KEY_ID: swift.s3.accessKeyId,
      PP_S3_SECRET_ACCESS_KEY: swift.s3.secretAccessKey,
      PP_URL_ALIASES: 'media=s3:/dir',
    });
  }, 60_000);

  afterAll(async () => {
    await px?.stop();
    await swift?.stop();
  });

  it('s3:/key through /proxy?url= and the path style, resized', async () => {
    for (const url of [`${px.url}/proxy?url=s3:/dir/pic.jpg&w=30`, `${px.url}/30x0/s3:/dir/pic.jpg`]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(30);
    }
  });

  it('untransformed: the object\'s own bytes; an s3:/ alias base is a key prefix', async () => {
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    for (const url of [`${px.url}/s3:/dir/pic.jpg`, `${px.url}/proxy?url=media:/pic.jpg`]) {
      const res = await fetch(url);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(photo));
    }
  });

  it('a missing key is 404 upstream_not_found', async () => {
    const res = await fetch(`${px.url}/proxy?url=s3:/dir/nope.jpg`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'upstream_not_found' });
  });

  it('only PP_S3_BUCKET is served: other buckets still need IMGPROXY_USE_S3', async () => {
    const imgproxy = await startApp({ PP_S3_ENABLED: 'true', PP_S3_BUCKET: BUCKET, PP_S3_ENDPOINT: swift.endpoint, PP_S3_ACCESS_KEY_ID: swift.s3.accessKeyId, PP_S3_SECRET_ACCESS_KEY: swift.s3.secretAccessKey });
    try {
      expect((await fetch(`${imgproxy.url}/insecure/rs:fit:20:20/plain/s3://${BUCKET}/dir/pic.jpg`)).status).toBe(200);
      expect((await fetch(`${imgproxy.url}/insecure/rs:fit:20:20/plain/s3://other/pic.jpg`)).status).toBe(404);
    } finally {
      await imgproxy.stop();
    }
  });
});
