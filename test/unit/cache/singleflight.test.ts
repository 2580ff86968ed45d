/**
 * Single-flight: concurrent requests for one key share one fetch and transform and all
 * receive its outcome; the work lives while a caller waits and is aborted when none does.
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
    let workSignal: AbortSignal | undefined;
    const leaderClient = new AbortController();
    const leader = sf.run(
      'k',
      async (work) => {
        workSignal = work.signal;
        await tick(40);
        finished = true;
        return 'done';
      },
      { signal: leaderClient.signal },
    );
    const followerClient = new AbortController();
    const follower = sf.run('k', async () => 'other', { signal: followerClient.signal });
    leaderClient.abort(new ProxyError('TIMEOUT', 'leader timed out'));
    // The leader stops waiting at once, with its own reason.
    await expect(leader).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(await follower).toEqual({ value: 'done', joined: true });
    expect(finished).toBe(true);
    expect(workSignal?.aborted).toBe(false);
  });

  it('when every caller has stopped waiting, the work is aborted and the key is free for a fresh computation', async () => {
    const sf = createSingleFlight();
    const clients = [new AbortController(), new AbortController(), new AbortController()];
    let seen: AbortSignal | undefined;
    let calls = 0;
    const runs = clients.map((c) =>
      sf.run(
        'k',
        (work) => {
          calls++;
          seen = work.signal;
          return new Promise<string>((_, reject) => work.signal.addEventListener('abort', () => reject(work.signal.reason)));
        },
        { signal: c.signal },
      ),
    );
    const all = Promise.allSettled(runs);
    clients[0]?.abort();
    clients[1]?.abort();
    await tick();
    expect(seen?.aborted).toBe(false);
    expect(sf.has('k')).toBe(true);
    clients[2]?.abort();
    const settled = await all;
    expect(settled.every((r) => r.status === 'rejected' && (r.reason as ProxyError).code === 'CANCELLED')).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as ProxyError).code).toBe('CANCELLED');
    expect(sf.has('k')).toBe(false);
    expect(await sf.run('k', async () => 'again')).toEqual({ value: 'again', joined: false });
    expect(calls).toBe(1);
  });

  it('a caller without a signal keeps the work alive after every other caller left', async () => {
    const sf = createSingleFlight();
    const client = new AbortController();
    let seen: AbortSignal | undefined;
    const leaving = sf.run(
      'k',
      async (work) => {
        seen = work.signal;
        await tick(20);
        return 'v';
      },
      { signal: client.signal },
    );
    const staying = sf.run('k', async () => 'other');
    client.abort();
    await expect(leaving).rejects.toBeInstanceOf(ProxyError);
    expect(await staying).toEqual({ value: 'v', joined: true });
    expect(seen?.aborted).toBe(false);
  });

  it('a caller already aborted neither starts nor joins anything', async () => {
    const sf = createSingleFlight();
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    await expect(sf.run('k', async () => ++calls, { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(calls).toBe(0);
    expect(sf.has('k')).toBe(false);
  });

  it('work.deadline() is the latest deadline among the callers still waiting', async () => {
    const sf = createSingleFlight();
    let deadline: () => number = () => 0;
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const early = new AbortController();
    const a = sf.run(
      'k',
      async (work) => {
        deadline = () => work.deadline();
        await gate;
        return 1;
      },
      { signal: early.signal, deadline: 1000 },
    );
    const b = sf.run('k', async () => 2, { signal: new AbortController().signal, deadline: 5000 });
    expect(deadline()).toBe(5000);
    early.abort();
    await expect(a).rejects.toBeInstanceOf(ProxyError);
    expect(deadline()).toBe(5000);
    const c = sf.run('k', async () => 3);
    expect(deadline()).toBe(Infinity);
    finish();
    expect((await b).value).toBe(1);
    expect((await c).value).toBe(1);
  });

  it('the entry is removed when settled: a later run computes again', async () => {
    const sf = createSingleFlight();
    let calls = 0;
    await sf.run('k', async () => ++calls);
    const second = await sf.run('k', async () => ++calls);
    expect(second).toEqual({ value: 2, joined: false });
  });
});
