/** The conformance suite against a real Swift SAIO (v1 tempauth). */
import { describe } from 'vitest';
import { createSwiftBackend } from '../../../src/storage/swift.js';
import { credentialedFixture, describeConformance } from './conformance.js';
import { swiftRaw } from './raw-access.js';
import { createSwiftContainer, requireOrSkip, startSwift, type SwiftServer } from './servers.js';

const skip = requireOrSkip('swift');

describe.skipIf(skip !== undefined)(`swift${skip ? ` (skipped: ${skip})` : ''}`, () => {
  describeConformance('swift', async () => {
    const server: SwiftServer = await startSwift();
    console.info(`swift SAIO started in ${server.startMs} ms`);
    await createSwiftContainer(server, 'conformance');
    const backend = createSwiftBackend({ authUrl: server.authUrl, username: server.username, apiKey: server.apiKey, listPageSize: 2, timeoutMs: 10_000 });
    const bad = createSwiftBackend({ authUrl: server.authUrl, username: server.username, apiKey: 'wrong-key', timeoutMs: 10_000 });
    // Swift's object server checks If-None-Match against what is on disk when a PUT starts
    // (swift/obj/server.py), so concurrent creates can all succeed; the newest one stays.
    return { ...credentialedFixture(backend, bad, server, swiftRaw(server)), conditionalCreate: 'racy' };
  });
});
