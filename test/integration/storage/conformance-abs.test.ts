/** The conformance suite against Azurite (SharedKey signatures are checked). */
import { describe } from 'vitest';
import { createAbsBackend } from '../../../src/storage/abs.js';
import { credentialedFixture, describeConformance } from './conformance.js';
import { absRaw } from './raw-access.js';
import { createAzureContainer, requireOrSkip, startAzurite, type AzuriteServer } from './servers.js';

const skip = requireOrSkip('azurite');

describe.skipIf(skip !== undefined)(`abs via azurite${skip ? ` (skipped: ${skip})` : ''}`, () => {
  describeConformance('abs', async () => {
    const server: AzuriteServer = await startAzurite();
    console.info(`azurite started in ${server.startMs} ms`);
    await createAzureContainer(server, 'conformance');
    const common = { accountName: server.accountName, endpoint: server.endpoint, listPageSize: 2, requestTimeoutMs: 20_000 };
    const backend = await createAbsBackend({ ...common, accountKey: server.accountKey });
    // A well-formed (base64) key that is not the account's.
    const bad = await createAbsBackend({ ...common, accountKey: Buffer.from('not the key').toString('base64') });
    return credentialedFixture(backend, bad, server, await absRaw(server));
  });
});
