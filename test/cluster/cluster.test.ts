/**
 * The whole shape of a pixproxy cluster, on loopback (`npm run test:cluster`, also run by
 * .ci/run): nginx in front of pixproxy processes sharing one Swift SAIO as their L2, built by
 * the local recipe's own code (deploy/local/). Transforms are counted from every instance's
 * /metrics, source fetches at the origin.
 *
 * - 300 concurrent requests for one new key through `hash $request_uri consistent`: 1 transform;
 * - the same through round-robin with PIXPROXY_CACHE_LEASE: 1 transform; without it: one per
 *   instance (measured);
 * - `kill -9` of an instance in the middle of a load run: no request fails (nginx retries what
 *   it can), its keys move to the others, which answer them from the L2 without a transform;
 * - a new instance put in the ring answers its share from the L2 at once;
 * - the object store stopped (SIGSTOP) for 10 s: every image request still answers (computed,
 *   the breaker open), and once it is back, results reach the L2 again.
 *
 * The figures it measured are printed at the end (`cluster figures: {…}`); with
 * PIXPROXY_CLUSTER_KEEP=1 its scratch directory (instance logs, nginx's) is kept.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBalancer, startInstance, startSharedStore, type Balancer, type Instance, type SharedStore } from '../../deploy/local/cluster.js';
import type { NginxSite } from '../../deploy/local/nginx-config.js';
import { parseExposition } from '../helpers/exposition.js';
import { makePhoto } from '../helpers/images.js';
import { startHandlerOrigin, type HandlerOrigin } from '../helpers/origin.js';
import { freePort, requireOrSkip } from '../integration/storage/servers.js';

const skip = requireOrSkip('swift');

interface Answer {
  status: number;
  cache: string;
  upstream: string;
  ok: boolean;
  ms: number;
  error?: string;
}

const agent = new Agent({ connections: 512, pipelining: 1 });

/** One GET; `ok` = 200, an image type and the whole body (as many bytes as Content-Length says). */
async function get(url: string): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await request(url, { dispatcher: agent, headersTimeout: 30_000, bodyTimeout: 30_000 });
    const body = Buffer.from(await res.body.arrayBuffer());
    const h = (n: string): string => String(res.headers[n] ?? '');
    const length = Number(h('content-length'));
    return {
      status: res.statusCode,
      cache: h('x-cache'),
      upstream: h('x-upstream'),
      ok: res.statusCode === 200 && h('content-type').startsWith('image/') && body.length > 0 && (Number.isNaN(length) || length === body.length),
      ms: performance.now() - started,
    };
  } catch (err) {
    return { status: 0, cache: '', upstream: '', ok: false, ms: performance.now() - started, error: String(err) };
  }
}

/** Runs `urls` with at most `concurrency` in flight; `onDone(i)` after each. */
async function load(urls: readonly string[], concurrency: number, onDone?: (i: number) => void): Promise<Answer[]> {
  const out: Answer[] = new Array<Answer>(urls.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < urls.length) {
        const i = next++;
        out[i] = await get(urls[i] as string);
        onDone?.(++done);
      }
    }),
  );
  return out;
}

async function counter(instance: Instance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await request(`${instance.url}/metrics`, { dispatcher: agent });
  const family = parseExposition(await res.body.text()).get(name);
  return (family?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

const sum = async (instances: readonly Instance[], name: string, labels?: Record<string, string>): Promise<number> => (await Promise.all(instances.map((i) => counter(i, name, labels)))).reduce((a, b) => a + b, 0);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const figures: Record<string, unknown> = {};

describe.skipIf(skip !== undefined)(`cluster: nginx + pixproxy instances + one Swift L2${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;
  let origin: HandlerOrigin;
  const fetched = new Map<string, number>();
  let store: SharedStore;
  /** With PIXPROXY_CACHE_LEASE (the ring), and without it (round-robin only). */
  let ring: Instance[] = [];
  let plain: Instance[] = [];
  const started: Instance[] = [];
  let nginx: Balancer;
  const ports = { hash: 0, rr: 0, rrPlain: 0 };
  let sites: (servers: readonly Instance[]) => NginxSite[];
  const hashUrl = (path: string): string => `http://127.0.0.1:${ports.hash}${path}`;
  const img = (name: string, w = 300): string => `/insecure/rs:fit:${w}:${w}/plain/${origin.url}/img/${name}.jpg@webp`;

  async function instance(i: string, env: Record<string, string>): Promise<Instance> {
    const it = await startInstance({
      env: {
        ...store.env,
        IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
        PP_CACHE_DIR: join(dir, `cache-${i}`),
        PIXPROXY_CACHE_BACKEND_TIMEOUT_MS: '500',
        IMGPROXY_CACHE_REPORT_ERRORS: 'true',
        ...env,
      },
      logFile: join(dir, `instance-${i}.log`),
    });
    started.push(it);
    return it;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixproxy-cluster-'));
    const photo = await makePhoto(1200, 900);
    origin = await startHandlerOrigin((req, res) => {
      const path = req.url ?? '/';
      fetched.set(path, (fetched.get(path) ?? 0) + 1);
      // Slow enough that a stampede's requests all arrive while the first is computed.
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': photo.length });
        res.end(photo);
      }, 150);
    });
    store = await startSharedStore('cluster');
    [ring, plain] = await Promise.all([
      Promise.all(['a', 'b', 'c'].map((i) => instance(i, { PIXPROXY_CACHE_LEASE: 'true' }))),
      Promise.all(['x', 'y', 'z'].map((i) => instance(i, {}))),
    ]);
    [ports.hash, ports.rr, ports.rrPlain] = await Promise.all([freePort(), freePort(), freePort()]);
    sites = (servers) => [
      { name: 'ring', listen: `127.0.0.1:${ports.hash}`, balance: 'hash', servers: servers.map((s) => s.address), debugHeader: true },
      { name: 'spread', listen: `127.0.0.1:${ports.rr}`, balance: 'round-robin', servers: ring.map((s) => s.address), debugHeader: true },
      { name: 'spread_plain', listen: `127.0.0.1:${ports.rrPlain}`, balance: 'round-robin', servers: plain.map((s) => s.address), debugHeader: true },
    ];
    nginx = await startBalancer(join(dir, 'nginx'), sites(ring));
    KEYS = Array.from({ length: 60 }, (_, i) => img(`k${i}`, 200 + (i % 7)));
  }, 180_000);

  afterAll(async () => {
    console.info(`cluster figures: ${JSON.stringify(figures)}`);
    await nginx?.stop();
    for (const i of started) if (i.child.exitCode === null && i.child.signalCode === null) i.child.kill('SIGKILL');
    await Promise.all(started.map((i) => i.exited));
    await store?.swift.stop();
    await origin?.close();
    await agent.close();
    if (process.env.PIXPROXY_CLUSTER_KEEP) console.info(`kept ${dir} (instance logs, nginx's error.log)`);
    else await rm(dir, { recursive: true, force: true });
  }, 60_000);

  async function stampede(base: number, instances: readonly Instance[], name: string): Promise<{ transforms: number; answers: Answer[] }> {
    const before = await sum(instances, 'transforms_total');
    const url = `http://127.0.0.1:${base}${img(name)}`;
    const answers = await Promise.all(Array.from({ length: 300 }, () => get(url)));
    return { transforms: (await sum(instances, 'transforms_total')) - before, answers };
  }

  it('300 concurrent requests for one new key through consistent hashing: 1 transform, 1 fetch', async () => {
    const { transforms, answers } = await stampede(ports.hash, ring, 'stampede-hash');
    figures.stampedeHash = { transforms, fetches: fetched.get('/img/stampede-hash.jpg') };
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(new Set(answers.map((a) => a.upstream)).size).toBe(1);
    expect(transforms).toBe(1);
    expect(fetched.get('/img/stampede-hash.jpg')).toBe(1);
  }, 60_000);

  it('the same through round-robin with PIXPROXY_CACHE_LEASE: 1 transform cluster-wide', async () => {
    const { transforms, answers } = await stampede(ports.rr, ring, 'stampede-lease');
    const byInstance = Object.fromEntries(ring.map((r) => [r.address, answers.filter((a) => a.upstream === r.address).length]));
    figures.stampedeRoundRobinLease = { transforms, fetches: fetched.get('/img/stampede-lease.jpg'), byInstance, followersServedFromL2: answers.filter((a) => a.cache === 'HIT-L2').length };
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(Object.values(byInstance).every((n) => n > 0)).toBe(true);
    expect(transforms).toBe(1);
    expect(fetched.get('/img/stampede-lease.jpg')).toBe(1);
    expect(await sum(ring, 'cache_lease_claims_total', { outcome: 'result' })).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('without the lease, round-robin computes the key once per instance (measured)', async () => {
    const { transforms, answers } = await stampede(ports.rrPlain, plain, 'stampede-plain');
    figures.stampedeRoundRobinNoLease = { transforms, fetches: fetched.get('/img/stampede-plain.jpg') };
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    // Each instance's own single-flight still holds: never more than one per instance.
    expect(transforms).toBeGreaterThanOrEqual(1);
    expect(transforms).toBeLessThanOrEqual(plain.length);
    await Promise.all(plain.map(async (p) => {
      p.child.kill('SIGTERM');
      await p.exited;
    }));
  }, 60_000);

  /** 60 keys, their paths made once the origin is up. */
  let KEYS: string[] = [];
  let owner = new Map<string, string>();
  /** The instance started last, and the keys the ring gave it (in its L1 since). */
  let fresh: Instance | undefined;
  const freshKeys = new Set<string>();

  it('kill -9 of an instance during a load run fails no request; its keys are answered from the L2 by the others', async () => {
    const warm = await load(KEYS.map(hashUrl), 8);
    expect(warm.filter((a) => !a.ok)).toEqual([]);
    owner = new Map(KEYS.map((k, i) => [k, warm[i]?.upstream ?? '']));
    const counts = ring.map((r) => [...owner.values()].filter((u) => u === r.address).length);
    const victim = ring[counts.indexOf(Math.max(...counts))] as Instance;
    const survivors = ring.filter((r) => r !== victim);
    const before = await sum(survivors, 'transforms_total');

    // Three rounds over every key, shuffled; the victim dies a third of the way in.
    const urls = [0, 1, 2].flatMap(() => [...KEYS].sort(() => Math.random() - 0.5)).map(hashUrl);
    let killedAt = -1;
    const answers = await load(urls, 16, (done) => {
      if (killedAt < 0 && done >= urls.length / 3) {
        killedAt = done;
        victim.child.kill('SIGKILL');
      }
    });
    await victim.exited;
    const failed = answers.filter((a) => !a.ok);
    const moved = answers.filter((a, i) => i > killedAt + 16 && owner.get(urls[i]?.slice(hashUrl('').length) ?? '') === victim.address);
    figures.killDuringLoad = {
      requests: answers.length,
      failed: failed.length,
      victimKeys: counts[ring.indexOf(victim)],
      movedAnswers: moved.length,
      movedOutcomes: [...new Set(moved.map((a) => a.cache))],
      survivorTransforms: (await sum(survivors, 'transforms_total')) - before,
    };
    expect(failed).toEqual([]);
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((a) => a.upstream !== victim.address && (a.cache === 'HIT-L2' || a.cache === 'HIT-L1'))).toBe(true);
    expect(moved.some((a) => a.cache === 'HIT-L2')).toBe(true);
    // Every key was in the L2: nothing was computed again.
    expect((await sum(survivors, 'transforms_total')) - before).toBe(0);
    ring = survivors;
  }, 120_000);

  it('a new instance put in the ring answers its share from the L2 at once, without a transform', async () => {
    const added = await instance('d', { PIXPROXY_CACHE_LEASE: 'true' });
    fresh = added;
    ring = [...ring, added];
    await nginx.reload(sites(ring));
    const answers = await load(KEYS.map(hashUrl), 8);
    const mine = answers.filter((a) => a.upstream === added.address);
    KEYS.forEach((k, i) => {
      if (answers[i]?.upstream === added.address) freshKeys.add(k);
    });
    figures.newInstance = { keys: KEYS.length, routedToNew: mine.length, outcomes: [...new Set(mine.map((a) => a.cache))], transforms: await counter(added, 'transforms_total') };
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((a) => a.cache === 'HIT-L2')).toBe(true);
    expect(await counter(added, 'transforms_total')).toBe(0);
  }, 120_000);

  it('measures the L2 latency a hit adds: the same keys read from Swift, then from L1', async () => {
    // Keys other instances computed, asked directly of the new one, which never saw them.
    const reader = fresh as Instance;
    const theirs = KEYS.filter((k) => !freshKeys.has(k)).slice(0, 20);
    const l2 = await load(theirs.map((k) => `${reader.url}${k}`), 1);
    const l1 = await load(theirs.map((k) => `${reader.url}${k}`), 1);
    figures.hitLatencyMs = { l2Median: Number(median(l2.map((a) => a.ms)).toFixed(2)), l1Median: Number(median(l1.map((a) => a.ms)).toFixed(2)), n: theirs.length };
    expect(l2.every((a) => a.ok && a.cache === 'HIT-L2')).toBe(true);
    expect(l1.every((a) => a.ok && a.cache === 'HIT-L1')).toBe(true);
    expect(median(l2.map((a) => a.ms))).toBeLessThan(1000);
  }, 60_000);

  it('the object store stopped for 10 s: every image request answers (computed); afterwards the L2 fills again', async () => {
    const pids = readFileSync(join(store.swift.dir, 'pids'), 'utf8').split('\n').map(Number).filter((p) => p > 0);
    for (const p of pids) process.kill(p, 'SIGSTOP');
    const outage: Answer[] = [];
    const stoppedAt = Date.now();
    try {
      let n = 0;
      while (Date.now() - stoppedAt < 10_000) {
        const batch = await load([0, 1, 2, 3].map(() => hashUrl(img(`outage-${n++}`))), 4);
        outage.push(...batch);
      }
    } finally {
      for (const p of pids) process.kill(p, 'SIGCONT');
    }
    const late = outage.slice(Math.floor(outage.length / 2));
    figures.storeOutage = {
      requests: outage.length,
      failed: outage.filter((a) => !a.ok).length,
      outcomes: [...new Set(outage.map((a) => a.cache))],
      medianMsSecondHalf: Number(median(late.map((a) => a.ms)).toFixed(1)),
      l2Errors: await sum(ring, 'cache_errors_total'),
    };
    expect(outage.length).toBeGreaterThan(8);
    expect(outage.filter((a) => !a.ok)).toEqual([]);
    expect(outage.every((a) => a.cache === 'MISS')).toBe(true);

    // Back: once the breaker's probe succeeds, a new result is written and another instance reads it.
    const backAt = Date.now();
    let refilled = false;
    for (let n = 0; !refilled && Date.now() - backAt < 60_000; n++) {
      const path = img(`after-${n}`);
      const first = await get(hashUrl(path));
      expect(first.ok).toBe(true);
      await sleep(300);
      const other = ring.find((r) => r.address !== first.upstream) as Instance;
      refilled = (await get(`${other.url}${path}`)).cache === 'HIT-L2';
      if (!refilled) await sleep(1000);
    }
    figures.storeOutage = { ...(figures.storeOutage as object), refilledAfterS: Number(((Date.now() - backAt) / 1000).toFixed(1)) };
    expect(refilled).toBe(true);
  }, 150_000);
});
