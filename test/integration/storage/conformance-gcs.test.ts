/** The conformance suite against the firebase-tools Storage emulator (GCS JSON API). */
import { describe } from 'vitest';
import { createGcsBackend } from '../../../src/storage/gcs.js';
import { CONFORMANCE_PREFIX, describeConformance } from './conformance.js';
import { gcsRaw } from './raw-access.js';
import { requireOrSkip, startGcsEmulator, type GcsServer } from './servers.js';

const skip = requireOrSkip('gcs');

describe.skipIf(skip !== undefined)(`gcs via firebase emulator${skip ? ` (skipped: ${skip})` : ''}`, () => {
  describeConformance('gcs', async () => {
    const server: GcsServer = await startGcsEmulator();
    console.info(`gcs emulator started in ${server.startMs} ms`);
    const backend = await createGcsBackend({ endpoint: server.endpoint, projectId: server.projectId, listPageSize: 2, requestTimeoutMs: 20_000 });
    return {
      // The emulator has no createBucket (501): buckets appear on first upload.
      store: backend.open('conformance', CONFORMANCE_PREFIX, { keyed: true }),
      sourceStore: backend.open('conformance', CONFORMANCE_PREFIX),
      raw: await gcsRaw(server),
      noCredentialsReason: 'the firebase Storage emulator does not check credentials',
      // Its upload handler has no preconditions: `ifGenerationMatch=0` is accepted and ignored.
      conditionalCreate: 'ignored',
      async cleanup() {
        await server.stop();
      },
    };
  });
});
