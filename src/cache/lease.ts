/**
 * The cross-instance lease (PIXPROXY_CACHE_LEASE): one computation per key across every
 * instance that shares the L2, for balancers that cannot route by key (round-robin, CDNs that
 * spread misses over instances). The local single-flight already makes one computation per key
 * and instance; its leader claims the key here before it downloads anything.
 *
 * A lease is a small object `lease/<key>` in the L2 itself, created with the store's own
 * conditional write (BlobStore.putIfAbsent: link(2), `If-None-Match: *`, `ifGenerationMatch=0`),
 * so the store decides who leads; it records its owner and until when it holds (`until`, now +
 * PIXPROXY_CACHE_LEASE_TTL_SECS). The creator computes, stores the result, and deletes the
 * lease once the result's L2 write has settled. Everyone else follows: it polls the lease (one
 * HEAD per poll, backing off) until it is gone, then reads the result from the L2. A lease
 * past its `until` belongs to a leader that died (`kill -9`, a partition): a follower deletes
 * it and claims the key itself, so a dead leader holds a key up for one TTL at most.
 *
 * The lease only saves work; it never decides what is served. Whenever it cannot coordinate
 * (the store is down or its breaker open, the server refuses conditional writes, the leader
 * outlives its TTL) the instance computes as it would without it, and results are the same
 * bytes whoever computes them. Two instances can both lead when a stale lease is taken over by
 * two followers at once (each deletes, then creates), and on stores whose conditional create
 * is not atomic under concurrency (Swift, see `confirm`).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyError, toProxyError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { ConditionalWriteUnsupportedError } from '../storage/common.js';
import type { BlobMeta, BlobStore } from '../storage/types.js';
import type { ErrorReporter } from './report.js';

/** What `claim` found: lead (compute, store, then release), another instance's result, or no coordination. */
export type Claim<T> = { readonly kind: 'lead'; release(): void } | { readonly kind: 'result'; readonly value: T } | { readonly kind: 'alone' };

/** Counted per claim (`cache_lease_claims_total{outcome}`). */
export type LeaseOutcome = 'lead' | 'takeover' | 'result' | 'timeout' | 'error' | 'unsupported';

export interface LeaseDeps<T> {
  /** The shared L2. */
  readonly store: Pick<BlobStore, 'putIfAbsent' | 'head' | 'delete'>;
  readonly ttlMs: number;
  /** The result of `key` once another instance has stored it (null: not there). */
  read(key: string): Promise<T | null>;
  /** Resolves once this instance's L2 write of `key`'s result (if any) has settled. */
  written(key: string): Promise<void>;
  /**
   * Read the lease back after creating it: Swift's object server checks `If-None-Match`
   * against what is on disk when a PUT starts (swift/obj/server.py,
   * https://github.com/openstack/swift), so concurrent creates can all succeed and the newest
   * one stays. A create that started after ours had finished got its 412, so the ones still
   * running started earlier and take about as long as ours: each creator waits as long as
   * its PUT took, then leads only if the lease it reads is its own.
   */
  readonly confirm: boolean;
  readonly report: ErrorReporter;
  readonly logger: Logger;
  onOutcome?(outcome: LeaseOutcome): void;
}

export interface Lease<T> {
  /** Claims `key` before computing it; `signal` aborts the wait (nobody waits for the result any more). */
  claim(key: string, signal: AbortSignal): Promise<Claim<T>>;
  /** Resolves when the releases in flight have finished (graceful stop). */
  flush(): Promise<void>;
}

/** Attempts at creating the lease: the first, and after a stale or released lease. */
const ATTEMPTS = 3;
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 500;
const MIN_SETTLE_MS = 10;
const MAX_SETTLE_MS = 250;

export const leaseKey = (key: string): string => `lease/${key}`;

function untilOf(meta: BlobMeta | null): number {
  const n = Number(meta?.extra?.until);
  return Number.isFinite(n) ? n : 0;
}

export function createLease<T>(deps: LeaseDeps<T>): Lease<T> {
  const { store, ttlMs, report } = deps;
  const count = (o: LeaseOutcome): void => deps.onOutcome?.(o);
  const releasing = new Set<Promise<void>>();
  /** Set at the first refusal of a conditional write: the server will not change its mind. */
  let unsupported = false;

  function lead(key: string, owner: string, until: number, outcome: 'lead' | 'takeover'): Claim<T> {
    count(outcome);
    let released = false;
    return {
      kind: 'lead',
      release() {
        if (released) return;
        released = true;
        // After the result is readable in the L2, so that a follower which sees the lease gone
        // finds the result. Past `until` the lease may be another instance's now: left alone.
        const p = deps
          .written(key)
          .then(() => (Date.now() < until ? store.delete(leaseKey(key)) : undefined))
          .catch((err: unknown) => report('lease', 'delete', err))
          .finally(() => releasing.delete(p));
        releasing.add(p);
      },
    };
  }

  /** Creates the lease; null when the store does not answer (or refuses conditional writes). */
  async function create(key: string, owner: string, until: number): Promise<boolean | null> {
    const body = Buffer.from(JSON.stringify({ owner, until }));
    // No store-level expiry: on Swift an X-Delete-At more than doubles the PUT's time (measured
    // 35 → 83 ms on a SAIO), on the path of every miss. A dead leader's lease is replaced by
    // the next miss of its key; a lifecycle rule on the prefix collects the others.
    const meta = { contentType: 'application/json', extra: { owner, until: String(until) } };
    const started = performance.now();
    try {
      const created = await store.putIfAbsent(leaseKey(key), body, meta);
      if (created && deps.confirm) {
        await sleep(Math.min(MAX_SETTLE_MS, Math.max(MIN_SETTLE_MS, performance.now() - started)));
        return (await store.head(leaseKey(key)))?.extra?.owner === owner;
      }
      return created;
    } catch (err) {
      if (err instanceof ConditionalWriteUnsupportedError) {
        unsupported = true;
        deps.logger.warn({ module: 'cache', err: err.message }, 'PIXPROXY_CACHE_LEASE: the L2 refuses conditional writes; instances compute without coordinating');
        return null;
      }
      report('lease', 'create', err);
      return null;
    }
  }

  /**
   * Waits while another instance holds the lease. 'gone': released (the result is looked up
   * next) or stale (past its `until`: its leader is dead); 'timeout': still held at our limit.
   */
  async function follow(key: string, meta: BlobMeta | null, signal: AbortSignal, limit: number): Promise<'gone' | 'stale' | 'timeout'> {
    let delay = FIRST_POLL_MS;
    let current = meta;
    for (;;) {
      if (current === null) return 'gone';
      if (untilOf(current) <= Date.now()) return 'stale';
      const left = limit - Date.now();
      if (left <= 0) return 'timeout';
      await sleep(Math.min(delay, left), undefined, { signal }).catch(() => {
        throw toProxyError(signal.reason ?? new ProxyError('CANCELLED', 'lease wait aborted'));
      });
      delay = Math.min(MAX_POLL_MS, Math.round(delay * 1.5));
      current = await store.head(leaseKey(key));
    }
  }

  async function claim(key: string, signal: AbortSignal): Promise<Claim<T>> {
    const owner = randomUUID();
    // A follower waits at most one TTL in all: a leader slower than that is not waited for.
    const limit = Date.now() + ttlMs;
    let takeover = false;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const until = Date.now() + ttlMs;
      const created = await create(key, owner, until);
      if (created === null) {
        count(unsupported ? 'unsupported' : 'error');
        return { kind: 'alone' };
      }
      if (created) return lead(key, owner, until, takeover ? 'takeover' : 'lead');
      let held: BlobMeta | null;
      try {
        held = await store.head(leaseKey(key));
        // The client library retried a create that had in fact succeeded.
        if (held?.extra?.owner === owner) return lead(key, owner, untilOf(held), takeover ? 'takeover' : 'lead');
        const state = await follow(key, held, signal, limit);
        if (state === 'timeout') {
          count('timeout');
          return { kind: 'alone' };
        }
        const value = await deps.read(key);
        if (value !== null) {
          count('result');
          return { kind: 'result', value };
        }
        // Released without a result (its computation failed), or stale, or expired in the
        // store (invisible to head, still there for the conditional create): free the name.
        await store.delete(leaseKey(key));
        takeover = state === 'stale' || takeover;
      } catch (err) {
        if (signal.aborted) throw toProxyError(err);
        report('lease', 'wait', err);
        count('error');
        return { kind: 'alone' };
      }
    }
    count('error');
    return { kind: 'alone' };
  }

  return {
    claim: (key, signal) => (unsupported ? Promise.resolve({ kind: 'alone' }) : claim(key, signal)),
    async flush() {
      while (releasing.size > 0) await Promise.allSettled([...releasing]);
    },
  };
}
