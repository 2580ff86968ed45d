/**
 * Single-flight. Seed: "If multiple requests for the same image and parameters arrive
 * simultaneously (before the first request has finished), PreviewProxy ensures that only one
 * fetch and transform is performed. All other concurrent requests wait for the result and
 * then receive it."
 */
import { describe, expect, it } from 'vitest';
import { createSingleFlight } from '../../../src/cache/singleflight.js';
import { ProxyError } from '../../../src/errors.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('single-flight', () => {
  it('100 concurrent runs of one key → fn called once; all get the value; 99 joined', async () => {
    const sf = createSingleFlight();
    let calls = 0;
    const runs = Array.from({ length: 100 }, () =>
      sf.run('k', async () => {
        calls++;
        await tick(20);
        return 'v';
      }),
    );
    const results = await Promise.all(runs);
    expect(calls).toBe(1);
    expect(results.every((r) => r.value === 'v')).toBe(true);
    expect(results.filter((r) => r.joined).length).toBe(99);
    expect(sf.size).toBe(0);
  });

  it('registration is synchronous: a run started from inside the leader joins it', async () => {
    const sf = createSingleFlight();
    let calls = 0;
    let inner: Promise<{ value: number; joined: boolean }> | undefined;
    const outer = sf.run('k', async () => {
      calls++;
      inner = sf.run('k', async () => {
        calls++;
        return 2;
      });
      return 1;
    });
    expect((await outer).value).toBe(1);
    expect(await inner).toEqual({ value: 1, joined: true });
    expect(calls).toBe(1);
  });

  it('different keys do not share', async () => {
    const sf = createSingleFlight();
    const [a, b] = await Promise.all([sf.run('a', async () => 'A'), sf.run('b', async () => 'B')]);
    expect([a.value, b.value, a.joined, b.joined]).toEqual(['A', 'B', false, false]);
  });

  it('a failing leader: every follower gets the same ProxyError with the same status (a 404 stays a 404)', async () => {
    const sf = createSingleFlight();
    const err = new ProxyError('SOURCE_CLIENT_ERROR', 'origin 404', { status: 404 });
    const runs = Array.from({ length: 10 }, () =>
      sf.run('k', async () => {
        await tick();
        throw err;
      }),
    );
    const settled = await Promise.allSettled(runs);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      if (s.status === 'rejected') {
        expect(s.reason).toBe(err);
        expect((s.reason as ProxyError).status).toBe(404);
      }
    }
    expect(sf.size).toBe(0);
  });

  it('a non-ProxyError is wrapped once and shared (INTERNAL, 500), a sync throw too', async () => {
    const sf = createSingleFlight();
    const a = sf.run('k', () => {
      throw new Error('boom');
    });
    const b = sf.run('k', async () => 'never');
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status === 'rejected' && rb.status === 'rejected' && ra.reason === rb.reason).toBe(true);
    if (ra.status === 'rejected') expect((ra.reason as ProxyError).status).toBe(500);
  });

  it("the leader's caller abandoning does not cancel the work followers wait for", async () => {
    const sf = createSingleFlight();
    let finished = false;
    const leaderClient = new AbortController();
    // The leader's caller races the shared result with its client's abort and gives up.
    const leader = Promise.race([
      sf.run('k', async () => {
        await tick(40);
        finished = true;
        return 'done';
      }),
      new Promise<never>((_, reject) => leaderClient.signal.addEventListener('abort', () => reject(new Error('client gone')))),
    ]);
    const follower = sf.run('k', async () => 'other');
    leaderClient.abort();
    await expect(leader).rejects.toThrow('client gone');
    expect(await follower).toEqual({ value: 'done', joined: true });
    expect(finished).toBe(true);
  });

  it('the entry is removed when settled: a later run computes again', async () => {
    const sf = createSingleFlight();
    let calls = 0;
    await sf.run('k', async () => ++calls);
    const second = await sf.run('k', async () => ++calls);
    expect(second).toEqual({ value: 2, joined: false });
  });
});
