/**
 * withResilience against real misbehaving backends: the Swift adapter pointed at a loopback
 * server that accepts connections and never answers, and an Azurite that is stopped and
 * started again on the same port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyError } from '../../../src/errors.js';
import { createAbsBackend } from '../../../src/storage/abs.js';
import { withResilience } from '../../../src/storage/resilient.js';
import { createSwiftBackend } from '../../../src/storage/swift.js';
import type { StorageBackend } from '../../../src/storage/types.js';
import { createAzureContainer, requireOrSkip, startAzurite, type AzuriteServer } from './servers.js';

async function timed<T>(p: Promise<T>): Promise<{ ms: number; err: unknown; value?: T }> {
  const t = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - t, err: undefined, value };
  } catch (err) {
    return { ms: performance.now() - t, err };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('withResilience over a backend that never answers (Swift adapter → silent server)', () => {
  let server: Server;
  let requests = 0;
  const sockets = new Set<Socket>();
  let backend: StorageBackend;

  beforeAll(async () => {
    server = createServer(() => {
      requests++; // and never answer
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // The adapter's own timeout is long: only the wrapper can cut these calls short.
    backend = createSwiftBackend({ authUrl: `http://127.0.0.1:${port}/auth/v1.0`, username: 'u', apiKey: 'k', timeoutMs: 60_000 });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await backend.close?.().catch(() => undefined);
    await new Promise((r) => server.close(r));
  });

  it('time-boxes calls, opens after N failures, fails fast, then probes once after the cooldown', async () => {
    const errors: string[] = [];
    const store = withResilience(backend.open('c'), { timeoutMs: 200, failureThreshold: 3, cooldownMs: 600, onError: (op) => errors.push(op) });

    const calls: (() => Promise<unknown>)[] = [() => store.get('a'), () => store.head('b'), () => store.put('c', Buffer.from('x'), {})];
    for (const call of calls) {
      const r = await timed(call());
      expect(r.err).toBeInstanceOf(ProxyError);
      expect((r.err as ProxyError).code).toBe('SOURCE_TIMEOUT');
      expect(r.ms).toBeGreaterThanOrEqual(180);
      expect(r.ms).toBeLessThan(1500);
    }
    expect(errors).toEqual(['get', 'head', 'put']);
    expect(store.circuit).toBe('open');
    expect(requests).toBeGreaterThanOrEqual(1);

    // Open: no added latency, nothing reaches the backend, onError is not called.
    const before = requests;
    for (let i = 0; i < 20; i++) {
      const r = await timed(store.get(`fast-${i}`));
      expect((r.err as ProxyError).code).toBe('SOURCE_UNREACHABLE');
      expect((r.err as Error).message).toMatch(/circuit open/);
      expect(r.ms).toBeLessThan(20);
    }
    const listing = await timed((async () => {
      for await (const _ of store.list()) break;
    })());
    expect((listing.err as ProxyError).code).toBe('SOURCE_UNREACHABLE');
    expect(requests).toBe(before);
    expect(errors).toHaveLength(3);

    await sleep(650);
    expect(store.circuit).toBe('half-open');
    // One probe goes through (and times out); a concurrent call meanwhile fails fast.
    const probe = timed(store.delete('p'));
    const concurrent = await timed(store.get('q'));
    expect((concurrent.err as Error).message).toMatch(/probe in flight/);
    expect(concurrent.ms).toBeLessThan(20);
    const p = await probe;
    expect((p.err as ProxyError).code).toBe('SOURCE_TIMEOUT');
    expect(errors).toEqual(['get', 'head', 'put', 'delete']);
    expect(store.circuit).toBe('open');
    const after = await timed(store.head('r'));
    expect(after.ms).toBeLessThan(20);
  });

  it('does not count a caller abort as a backend failure', async () => {
    const errors: string[] = [];
    const store = withResilience(backend.open('c'), { timeoutMs: 5000, failureThreshold: 1, cooldownMs: 60_000, onError: (op) => errors.push(op) });
    const ac = new AbortController();
    const pending = timed(store.get('x', { signal: ac.signal }));
    await sleep(50);
    ac.abort();
    const r = await pending;
    expect(r.err).toBeDefined();
    expect(r.ms).toBeLessThan(1000);
    expect(errors).toEqual([]);
    expect(store.circuit).toBe('closed');
  });
});

const skipAzurite = requireOrSkip('azurite');

describe.skipIf(skipAzurite !== undefined)(`withResilience over a stopped, then restarted Azurite${skipAzurite ? ` (skipped: ${skipAzurite})` : ''}`, () => {
  let azurite: AzuriteServer | undefined;
  afterAll(async () => {
    await azurite?.stop();
  });

  it('opens while the backend is down and closes again once a probe succeeds', async () => {
    azurite = await startAzurite();
    await createAzureContainer(azurite, 'res');
    const backend = await createAbsBackend({ accountName: azurite.accountName, accountKey: azurite.accountKey, endpoint: azurite.endpoint, maxTries: 1, requestTimeoutMs: 2000 });
    const errors: unknown[] = [];
    const store = withResilience(backend.open('res'), { timeoutMs: 1000, failureThreshold: 2, cooldownMs: 500, onError: (_op, e) => errors.push(e) });
    await store.put('k', Buffer.from('v'), {});
    expect((await store.head('k'))?.size).toBe(1);

    const port = azurite.port;
    await azurite.stop();
    azurite = undefined;
    for (let i = 0; i < 2; i++) {
      const r = await timed(store.head('k'));
      expect(r.err).toBeInstanceOf(ProxyError);
      expect((r.err as ProxyError).code).toMatch(/SOURCE_UNREACHABLE|SOURCE_TIMEOUT/);
    }
    expect(store.circuit).toBe('open');
    expect(errors).toHaveLength(2);
    const fast = await timed(store.head('k'));
    expect(fast.ms).toBeLessThan(20);

    azurite = await startAzurite(port);
    await createAzureContainer(azurite, 'res');
    await sleep(550);
    // In-memory Azurite came back empty: the probe answers "missing", which is a success.
    const probe = await timed(store.head('k'));
    expect(probe.err).toBeUndefined();
    expect(probe.value).toBeNull();
    expect(store.circuit).toBe('closed');
    await store.put('k2', Buffer.from('back'), {});
    expect((await store.head('k2'))?.size).toBe(4);
  }, 60_000);
});
