/**
 * The limiter: admission (imgproxy's queue semaphore: 429 at once past workers + queue),
 * and the download and worker slots, bounded apart, whose waiters can give up.
 */
import { describe, expect, it } from 'vitest';
import { createLimiter, createSlots } from '../../src/limiter.js';
import { ProxyError } from '../../src/errors.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A task that runs until `release()` is called. */
function held(): { task: () => Promise<void>; release: () => void; started: Promise<void> } {
  let release!: () => void;
  let started!: () => void;
  const s = new Promise<void>((r) => (started = r));
  const done = new Promise<void>((r) => (release = r));
  return { task: () => (started(), done), release, started: s };
}

describe('slots', () => {
  it('runs at most `capacity` tasks at once', async () => {
    const s = createSlots(2);
    let running = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 10 }, () => s.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
    })));
    expect(peak).toBe(2);
    expect(s.active).toBe(0);
  });

  it('a waiter whose signal aborts leaves the queue and never runs', async () => {
    const s = createSlots(1);
    const first = held();
    const a = s.run(first.task);
    const ac = new AbortController();
    let ran = false;
    const b = s.run(async () => {
      ran = true;
    }, ac.signal);
    expect(s.waiting).toBe(1);
    ac.abort();
    await expect(b).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(s.waiting).toBe(0);
    first.release();
    await a;
    await tick();
    expect(ran).toBe(false);
  });

  it('releases the slot when a task throws', async () => {
    const s = createSlots(1);
    await expect(s.run(async () => { throw new Error('x'); })).rejects.toThrow('x');
    expect(await s.run(async () => 7)).toBe(7);
  });
});

describe('limiter', () => {
  it('admits workers + queue computations and refuses the next with 429 at once', async () => {
    const l = createLimiter({ workers: 1, queueSize: 1, downloads: 0 });
    const a = held();
    const b = held();
    const pa = l.admit(a.task);
    const pb = l.admit(b.task);
    expect(l.admitted).toBe(2);
    const refused = l.admit(async () => 'never');
    await expect(refused).rejects.toBeInstanceOf(ProxyError);
    await expect(refused).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS', status: 429 });
    a.release();
    await pa;
    expect(l.admitted).toBe(1);
    expect(await l.admit(async () => 'now')).toBe('now');
    b.release();
    await pb;
  });

  it('IMGPROXY_REQUESTS_QUEUE_SIZE=0 admits without bound', async () => {
    const l = createLimiter({ workers: 1, queueSize: 0, downloads: 0 });
    const h = held();
    const all = Array.from({ length: 50 }, () => l.admit(h.task));
    expect(l.admitted).toBe(50);
    h.release();
    await Promise.all(all);
    expect(l.admitted).toBe(0);
  });

  it('downloads in flight hold no worker: a task needing a worker runs at once while every download slot is taken', async () => {
    const l = createLimiter({ workers: 1, queueSize: 0, downloads: 3 });
    const dl = held();
    const downloads = Array.from({ length: 5 }, () => l.downloads.run(dl.task));
    await dl.started;
    expect([l.downloads.active, l.downloads.waiting]).toEqual([3, 2]);
    expect(l.workers.active).toBe(0);
    expect(await l.workers.run(async () => 'processed')).toBe('processed');
    dl.release();
    await Promise.all(downloads);
    expect(l.downloads.active).toBe(0);
  });

  it('downloads: 0 means unlimited', async () => {
    const l = createLimiter({ workers: 1, queueSize: 0, downloads: 0 });
    const dl = held();
    const all = Array.from({ length: 100 }, () => l.downloads.run(dl.task));
    expect([l.downloads.active, l.downloads.waiting, l.downloads.capacity]).toEqual([100, 0, Infinity]);
    dl.release();
    await Promise.all(all);
  });
});
