/**
 * The cross-instance lease over a real fs store shared by several "instances" (one lease
 * object each, as separate processes would have): one leads, the others get its result from
 * the store; a dead leader's lease is taken over after its TTL; a failed leader hands over
 * at once; a follower whose callers leave stops waiting.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLease, leaseKey, type Lease, type LeaseOutcome } from '../../../src/cache/lease.js';
import { ProxyError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { createFsBackend } from '../../../src/storage/fs.js';
import type { BlobStore } from '../../../src/storage/types.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pixproxy-lease-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An instance: its own store object on the shared directory, its own lease, its outcomes. */
function instance(bucket: string, ttlMs: number): { store: BlobStore; lease: Lease<string>; outcomes: LeaseOutcome[]; errors: string[] } {
  const store = createFsBackend(root).open(bucket, 'l2');
  const outcomes: LeaseOutcome[] = [];
  const errors: string[] = [];
  const lease = createLease<string>({
    store,
    ttlMs,
    async read(key) {
      const r = await store.get(`result/${key}`);
      return r && 'data' in r && r.data ? r.data.toString() : null;
    },
    written: async () => undefined,
    confirm: false,
    report: (layer, op, err) => errors.push(`${layer} ${op}: ${String(err)}`),
    logger: silentLogger(),
    onOutcome: (o) => outcomes.push(o),
  });
  return { store, lease, outcomes, errors };
}

const never = new AbortController().signal;

describe('cross-instance lease', () => {
  it('one of several instances leads; the others get its result once it is stored', async () => {
    const all = Array.from({ length: 4 }, () => instance('race', 5000));
    const claims = await Promise.all(
      all.map(async (me, i) => {
        const c = await me.lease.claim('k1', never);
        if (c.kind === 'lead') {
          await new Promise((r) => setTimeout(r, 150));
          await me.store.put('result/k1', Buffer.from(`computed by ${i}`), {});
          c.release();
          await me.lease.flush();
          return `lead ${i}`;
        }
        return c.kind === 'result' ? c.value : c.kind;
      }),
    );
    const leaders = claims.filter((c) => c.startsWith('lead'));
    expect(leaders).toHaveLength(1);
    const by = leaders[0]?.slice('lead '.length);
    expect(claims.filter((c) => c === `computed by ${by}`)).toHaveLength(3);
    expect(all.flatMap((a) => a.outcomes).sort()).toEqual(['lead', 'result', 'result', 'result']);
    // Released: the lease object is gone.
    expect(await all[0]?.store.head(leaseKey('k1'))).toBeNull();
    expect(all.flatMap((a) => a.errors)).toEqual([]);
  });

  it('a leader that dies holds its key for one TTL; then a follower takes over', async () => {
    const dead = instance('dead', 300);
    const next = instance('dead', 300);
    expect((await dead.lease.claim('k2', never)).kind).toBe('lead');
    // Never released: the process "died".
    const started = Date.now();
    const c = await next.lease.claim('k2', never);
    expect(c.kind).toBe('lead');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(next.outcomes).toEqual(['takeover']);
  });

  it('a leader that fails (released without a result) hands the key over at once', async () => {
    const a = instance('failed', 10_000);
    const b = instance('failed', 10_000);
    const first = await a.lease.claim('k3', never);
    expect(first.kind).toBe('lead');
    const waiting = b.lease.claim('k3', never);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    if (first.kind === 'lead') first.release();
    const c = await waiting;
    expect(c.kind).toBe('lead');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a follower whose callers all left stops waiting with their reason', async () => {
    const a = instance('abort', 10_000);
    const b = instance('abort', 10_000);
    expect((await a.lease.claim('k4', never)).kind).toBe('lead');
    const ac = new AbortController();
    const waiting = b.lease.claim('k4', ac.signal);
    setTimeout(() => ac.abort(new ProxyError('CANCELLED', 'client left')), 100);
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('a release after the TTL leaves the lease alone (it may be another instance\'s by then)', async () => {
    const a = instance('late', 200);
    const c = await a.lease.claim('k5', never);
    expect(c.kind).toBe('lead');
    await new Promise((r) => setTimeout(r, 300));
    const b = instance('late', 10_000);
    // b takes the stale lease over, then a (still computing) finishes and releases.
    expect((await b.lease.claim('k5', never)).kind).toBe('lead');
    if (c.kind === 'lead') c.release();
    await a.lease.flush();
    expect((await a.store.head(leaseKey('k5')))?.extra?.until).toBeDefined();
  });
});
