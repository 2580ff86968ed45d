import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../../src/limiter.js';
import { ProxyError } from '../../../src/errors.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('limiter', () => {
  it('runs at most `workers` tasks at once', async () => {
    const l = createLimiter(2, 0);
    let running = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 10 }, () => l.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
    })));
    expect(peak).toBe(2);
    expect(l.active).toBe(0);
  });

  it('refuses with 429 at once when the queue is full', async () => {
    const l = createLimiter(1, 1);
    const release: Array<() => void> = [];
    const hold = () => new Promise<void>((r) => release.push(r));
    const a = l.run(hold);
    const b = l.run(hold);
    await expect(l.run(hold)).rejects.toMatchObject({ status: 429 });
    expect(l.waiting).toBe(1);
    release.shift()?.();
    await a;
    await tick();
    release.shift()?.();
    await b;
  });

  it('a waiter whose signal aborts leaves the queue', async () => {
    const l = createLimiter(1, 0);
    let done: () => void = () => {};
    const a = l.run(() => new Promise<void>((r) => (done = r)));
    const ac = new AbortController();
    const b = l.run(async () => 'never', ac.signal);
    expect(l.waiting).toBe(1);
    ac.abort();
    await expect(b).rejects.toBeInstanceOf(ProxyError);
    expect(l.waiting).toBe(0);
    done();
    await a;
  });

  it('releases the worker when a task throws', async () => {
    const l = createLimiter(1, 0);
    await expect(l.run(async () => { throw new Error('x'); })).rejects.toThrow('x');
    expect(await l.run(async () => 7)).toBe(7);
  });
});
