/** The conformance suite against real S3 semantics: Swift's s3api (SigV4 is checked). */
import { describe } from 'vitest';
import { createS3Backend } from '../../../src/storage/s3.js';
import { credentialedFixture, describeConformance } from './conformance.js';
import { s3Raw } from './raw-access.js';
import { createS3Bucket, requireOrSkip, startSwift, type SwiftServer } from './servers.js';

const skip = requireOrSkip('swift');

describe.skipIf(skip !== undefined)(`s3 via swift s3api${skip ? ` (skipped: ${skip})` : ''}`, () => {
  describeConformance('s3', async () => {
    const server: SwiftServer = await startSwift();
    console.info(`swift SAIO (s3api) started in ${server.startMs} ms`);
    await createS3Bucket(server, 'conformance');
    const common = { endpoint: server.endpoint, region: server.s3.region, forcePathStyle: true, listPageSize: 2, requestTimeoutMs: 20_000 };
    const backend = await createS3Backend({ ...common, credentials: server.s3 });
    const bad = await createS3Backend({ ...common, credentials: { ...server.s3, secretAccessKey: 'wrong-secret' } });
    const raw = await s3Raw(server);
    const fx = credentialedFixture(backend, bad, server, raw);
    return {
      ...fx,
      // s3api answers 501 "Conditional object PUTs are not supported" (swift/common/middleware/s3api/s3request.py).
      conditionalCreate: 'unsupported',
      async cleanup() {
        raw.close();
        await fx.cleanup();
      },
    };
  });
});
