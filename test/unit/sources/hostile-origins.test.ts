/**
 * The source dispatcher against hostile origins (test/helpers/hostile-origin.ts), under the
 * defaults that matter here: IMGPROXY_MAX_SRC_FILE_SIZE=0 (no limit asked) and the
 * PIXPROXY_MAX_SRC_BYTES_CEILING default. Each class must end in its 4xx/502/504 quickly,
 * and cancelling must close the origin's connection at once, whatever phase it is in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { createSources, type Sources } from '../../../src/sources/index.js';
import { rejection } from '../../helpers/errors.js';
import { cancelInFlight, startHostileOrigin, type HostileKind, type HostileOrigin } from '../../helpers/hostile-origin.js';

const MIB = 1024 * 1024;
const BOMB = 256 * MIB;
const BASE: Env = { IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', IMGPROXY_MAX_SRC_FILE_SIZE: '0' };

let origin: HostileOrigin;
const opened: Sources[] = [];

function sources(env: Env = {}): Sources {
  const s = createSources(loadConfig({ ...BASE, ...env }));
  opened.push(s);
  return s;
}

beforeAll(async () => {
  origin = await startHostileOrigin();
  await Promise.all((['gzip', 'gzip-gzip', 'deflate', 'br'] as const).map((k) => origin.prepare(k, BOMB)));
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await origin.close();
});

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const t = Date.now();
  const value = await p;
  return { value, ms: Date.now() - t };
}

describe('compression bombs: the limit counts decoded bytes, with no limit asked', () => {
  it.each(['gzip', 'gzip-gzip', 'deflate', 'br'] as const)('%s: 256 MiB decoded is SOURCE_TOO_BIG at the 64 MiB ceiling', async (kind) => {
    const { value: err, ms } = await timed(rejection(sources().fetch(origin.at(kind, { size: BOMB }), { maxBytes: 0 })));
    expect(err.code).toBe('SOURCE_TOO_BIG');
    expect(err.status).toBe(422);
    expect(err.message).toContain(String(64 * MIB));
    expect(ms).toBeLessThan(15_000);
  });

  it.each(['gzip', 'gzip-gzip', 'deflate', 'br'] as const)('%s: stopped at the asked limit when it is lower, long before the bomb is spent', async (kind) => {
    const err = await rejection(sources().fetch(origin.at(kind, { size: BOMB }), { maxBytes: MIB }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
    expect(err.message).toContain(String(MIB));
  });

  it('the raw stream of a bomb errors at the ceiling too', async () => {
    const s = await sources().stream(origin.at('gzip', { size: BOMB }), { maxBytes: 0 });
    let bytes = 0;
    const err = await (async () => {
      try {
        for await (const c of s.body as AsyncIterable<Buffer>) bytes += c.length;
      } catch (e) {
        return e as { code?: string };
      }
      return undefined;
    })();
    expect(err?.code).toBe('SOURCE_TOO_BIG');
    expect(bytes).toBeLessThanOrEqual(64 * MIB);
  });
});

describe('lying and broken framing', () => {
  it('a body longer than its Content-Length: the announced bytes, and the smuggled response never answers a later request', async () => {
    const s = sources();
    const first = await s.fetch(origin.at('longer'), { maxBytes: 0 });
    expect(first.body.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(first.body.includes(Buffer.from('evil'))).toBe(false);
    for (let i = 0; i < 3; i++) {
      const next = await s.fetch(origin.at('image'), { maxBytes: 0 });
      expect(next.body.equals(first.body)).toBe(true);
    }
  });

  it.each([
    ['shorter', 'a body shorter than its Content-Length'],
    ['chunked-cut', 'a chunked body cut before its last chunk'],
  ] as const)('%s (%s) is SOURCE_BODY_INCOMPLETE 422 at once', async (kind, _what) => {
    const { value: err, ms } = await timed(rejection(sources().fetch(origin.at(kind), { maxBytes: 0 })));
    expect(err.code).toBe('SOURCE_BODY_INCOMPLETE');
    expect(err.status).toBe(422);
    expect(ms).toBeLessThan(2000);
  });

  it('Content-Length: 99999999999 is SOURCE_TOO_BIG before any body is read', async () => {
    const { value: err, ms } = await timed(rejection(sources().fetch(origin.at('huge-length'), { maxBytes: 0 })));
    expect(err.code).toBe('SOURCE_TOO_BIG');
    expect(err.message).toContain('Content-Length 99999999999');
    expect(ms).toBeLessThan(2000);
  });

  it('a 10 GiB chunked stream is SOURCE_TOO_BIG at the ceiling, and the origin is cut off there', async () => {
    const before = origin.connections.length;
    const err = await rejection(sources({ IMGPROXY_DOWNLOAD_TIMEOUT: '30' }).fetch(origin.at('endless'), { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_TOO_BIG');
    const conn = origin.connections[before];
    expect(conn?.kind).toBe('endless');
    await conn?.closed;
    // What the socket buffers hold on both sides past the limit, not gigabytes.
    expect(conn?.bytesOut).toBeLessThan(64 * MIB + 32 * MIB);
  });

  it('a redirect loop is SOURCE_REDIRECTS after IMGPROXY_MAX_REDIRECTS hops', async () => {
    const before = origin.connections.length;
    const err = await rejection(sources({ IMGPROXY_MAX_REDIRECTS: '4' }).fetch(origin.at('redirect'), { maxBytes: 0 }));
    expect(err.code).toBe('SOURCE_REDIRECTS');
    expect(err.message).toContain('too many redirects');
    const hops = origin.connections.slice(before).filter((c) => c.kind === 'redirect');
    expect(hops.length).toBeGreaterThan(0);
  });

  it('a redirect whose body drips is followed without waiting for that body', async () => {
    const { value: res, ms } = await timed(sources({ IMGPROXY_DOWNLOAD_TIMEOUT: '10' }).fetch(origin.at('redirect-drip', { interval: 200 }), { maxBytes: 0 }));
    expect(res.status).toBe(200);
    expect(res.body.subarray(0, 4).toString('hex')).toBe('89504e47');
    expect(ms).toBeLessThan(5000);
  });
});

/** Reads a stream to the end: its byte count, or the error it failed with. */
async function drained(body: AsyncIterable<Buffer>): Promise<{ bytes: number; error?: { code?: string } }> {
  let bytes = 0;
  try {
    for await (const c of body) bytes += c.length;
    return { bytes };
  } catch (error) {
    return { bytes, error: error as { code?: string } };
  }
}

describe('an origin that closes while the reader is behind (nodejs/undici#5360: a process crash without the guard)', () => {
  const SIZES = [64 * 1024, 64 * 1024 + 1000, 128 * 1024, 256 * 1024, MIB];

  it.each(SIZES)('Connection: close with %d bytes, read late: the whole body, no crash', async (size) => {
    const s = await sources().stream(origin.at('close', { size }), { maxBytes: 0 });
    await new Promise((r) => setTimeout(r, 300));
    const { bytes, error } = await drained(s.body as AsyncIterable<Buffer>);
    expect(error).toBeUndefined();
    expect(bytes).toBe(size);
    expect((await sources().fetch(origin.at('close', { size }), { maxBytes: 0 })).body.length).toBe(size);
  });

  it.each(SIZES.slice(0, 4))('a reset after %d of twice as many bytes, read late: SOURCE_BODY_INCOMPLETE, no crash', async (size) => {
    const s = await sources().stream(origin.at('reset', { size }), { maxBytes: 0 });
    await new Promise((r) => setTimeout(r, 300));
    const { bytes, error } = await drained(s.body as AsyncIterable<Buffer>);
    expect(error?.code).toBe('SOURCE_BODY_INCOMPLETE');
    expect(bytes).toBeLessThan(2 * size);
  });
});

describe('slow origins: IMGPROXY_DOWNLOAD_TIMEOUT covers the whole download', () => {
  it.each(['silent', 'drip-headers', 'drip', 'chunked-stall'] as const)('%s is SOURCE_TIMEOUT 504 after the timeout, and its connection is closed', async (kind: HostileKind) => {
    const next = origin.nextRequest();
    const { value: err, ms } = await timed(rejection(sources({ IMGPROXY_DOWNLOAD_TIMEOUT: '1' }).fetch(origin.at(kind, { interval: 200 }), { maxBytes: 0 })));
    expect(err.code).toBe('SOURCE_TIMEOUT');
    expect(err.status).toBe(504);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(4000);
    const conn = await next;
    expect(await conn.closedWithin(2000)).toBeDefined();
  });
});

describe('cancellation: the caller\'s signal closes the origin connection at once', () => {
  const phases: [string, HostileKind, { interval?: number; to?: string }][] = [
    ['waiting for headers', 'silent', {}],
    ['while headers drip', 'drip-headers', { interval: 50 }],
    ['while the body drips', 'drip', { interval: 50 }],
    ['in a chunked body that stalls', 'chunked-stall', {}],
    ['on the second hop of a redirect', 'redirect', { to: '/silent' }],
    ['while a redirect body drips', 'redirect-drip', { interval: 50, to: '/silent' }],
    ['in the middle of a fast endless body', 'endless', {}],
  ];
  // No byte ceiling here: a fast loopback can carry 64 MiB in less than the 150 ms before the cancel, and
  // this case is about the signal, not the size limit (which has its own cases above).
  it.each(phases)('%s (%s)', async (_phase, kind, params) => {
    const s = sources({ IMGPROXY_DOWNLOAD_TIMEOUT: '30', PIXPROXY_MAX_SRC_BYTES_CEILING: '0' });
    const ac = new AbortController();
    const first = origin.nextRequest();
    // A redirect is cancelled on its last hop.
    const last = kind === 'redirect' ? origin.nextRequest() : first;
    const c = await cancelInFlight(last, ac, s.fetch(origin.at(kind, params), { maxBytes: 0, signal: ac.signal }), 150);
    expect(c.error).toBeInstanceOf(ProxyError);
    expect(c.error).toMatchObject({ code: 'CANCELLED' });
    expect(c.answeredMs).toBeLessThan(500);
    expect(c.closedMs ?? Infinity).toBeLessThan(1000);
  });

  it('a signal aborted before the call makes no connection at all', async () => {
    // An origin of its own: undici may reconnect to the shared one after the aborts above.
    const fresh = await startHostileOrigin();
    try {
      const ac = new AbortController();
      ac.abort();
      const err = await rejection(sources().fetch(fresh.at('image'), { maxBytes: 0, signal: ac.signal }));
      expect(err.code).toBe('CANCELLED');
      await new Promise((r) => setTimeout(r, 50));
      expect(fresh.connections).toHaveLength(0);
    } finally {
      await fresh.close();
    }
  });
});
