/**
 * A real S3 for the cases that need one (upstream fakes S3 with wiremock): Swift SAIO's s3api
 * on loopback, started by the case's describe block and stopped after it, with one bucket and
 * the PP_S3_* variables PreviewProxy reads to reach it. Without Swift's binaries the block is
 * skipped locally and fails under CI (`requireOrSkip`).
 *
 * While pixproxy does not read PP_S3_ENABLED, every S3 case fails on that alone (issue 12
 * §8), so Swift is not started (it costs seconds per file); the servers then point at a port
 * nothing listens on. The day the variable is read, the cases run against the real S3.
 */
import { afterAll, beforeAll } from 'vitest';
import { knownVariables } from '../../../src/config/index.js';
import { createS3Bucket, requireOrSkip, retrying, startSwift, type SwiftServer } from '../../integration/storage/servers.js';

export const s3Skip = requireOrSkip('swift');
const S3_READ = knownVariables().includes('PP_S3_ENABLED');

export interface PpS3 {
  /** PP_S3_ENABLED, _BUCKET, _REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY, _ENDPOINT. */
  env(): Record<string, string>;
  put(key: string, body: Buffer, contentType?: string): Promise<void>;
}

/** Registers beforeAll/afterAll in the calling describe block. */
export function ppS3(bucket = 'pp-bucket'): PpS3 {
  let swift: SwiftServer | undefined;
  beforeAll(async () => {
    if (!S3_READ) return;
    swift = await startSwift();
    await createS3Bucket(swift, bucket);
  }, 120_000);
  afterAll(async () => swift?.stop());
  return {
    env: () => ({
      PP_S3_ENABLED: 'true',
      PP_S3_BUCKET: bucket,
      PP_S3_REGION: 'us-east-1',
      PP_S3_ACCESS_KEY_ID: swift?.s3.accessKeyId ?? '',
      PP_S3_SECRET_ACCESS_KEY: swift?.s3.secretAccessKey ?? '',
      PP_S3_ENDPOINT: swift?.endpoint ?? 'http://127.0.0.1:1',
    }),
    async put(key, body, contentType) {
      if (!S3_READ) return;
      if (!swift) throw new Error('S3 not started');
      const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
      const c = new S3Client({ endpoint: swift.endpoint, region: swift.s3.region, forcePathStyle: true, credentials: swift.s3, requestChecksumCalculation: 'WHEN_REQUIRED' });
      try {
        // Swift's s3api answers 503 ("Please reduce your request rate") while its servers are loaded.
        await retrying(`put ${key}`, () => c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) })));
      } finally {
        c.destroy();
      }
    },
  };
}
