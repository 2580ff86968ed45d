/** The conformance suite against the fs backend (the embedded default L2). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createFsBackend } from '../../../src/storage/fs.js';
import { describeConformance } from './conformance.js';

describe('fs', () => {
  describeConformance('fs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pixproxy-conf-fs-'));
    return {
      store: createFsBackend(root).open('bucket', 'pfx'),
      noCredentialsReason: 'the fs backend has no credentials to reject',
      async cleanup() {
        await rm(root, { recursive: true, force: true });
      },
    };
  });
});
