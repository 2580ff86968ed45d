/** The conformance suite against the fs backend (the embedded default L2). */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe } from 'vitest';
import { createFsBackend } from '../../../src/storage/fs.js';
import { locate } from '../../../src/storage/fs-layout.js';
import { v1Entry } from '../../helpers/fs-entries.js';
import { describeConformance } from './conformance.js';

describe('fs', () => {
  describeConformance('fs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pixproxy-conf-fs-'));
    const store = createFsBackend(root).open('bucket', 'pfx');
    const write = async (key: string, bytes: Buffer | string): Promise<string> => {
      const { file } = locate(store.dir, key);
      await mkdir(dirname(file), { recursive: true });
      if (typeof bytes === 'string') await copyFile(bytes, file);
      else await writeFile(file, bytes);
      return file;
    };
    return {
      store,
      raw: {
        copy: async (from, to) => void (await write(to, locate(store.dir, from).file)),
        // A version-1 file records no key unless hash-named with "@key": as an older pixproxy wrote other keys' files.
        putKeyless: async (key, body) => void (await write(key, v1Entry(body, {}))),
      },
      noCredentialsReason: 'the fs backend has no credentials to reject',
      async cleanup() {
        await rm(root, { recursive: true, force: true });
      },
    };
  });
});
