/**
 * Micro-benchmark of the fs store's hot paths, without HTTP: how many `get` + drain per
 * second the event loop sustains, and how long a `put` of a multi-MB body blocks it. Not part
 * of `npm test` or `npm run bench`.
 *
 *   npx tsx bench/fs-micro.ts                       # this tree's src/storage/fs.ts
 *   npx tsx bench/fs-micro.ts --impl /other/tree/src/storage/fs.ts   # another tree's, to compare
 *   npx tsx bench/fs-micro.ts --impl 'src/storage/fs.ts#{"syncReadMaxBytes":0}'   # with backend options
 *   npx tsx bench/fs-micro.ts --raw                 # raw file-call variants (open/fstat/read/close, sync)
 *   options: --secs 3 --conc 16 --sizes 20000,60000,150000 --rounds 3
 *
 * `get`: the entries are put first (fsync off), then `conc` concurrent loops read them in
 * turn (what the l2-hit scenario does) for `secs` seconds. Reported: ops/s, main-thread CPU µs
 * per op (process.cpuUsage covers all threads, so it is the event loop plus the pool) and
 * the p99 event-loop delay. Each round runs every variant once, interleaved; medians printed.
 *
 * `put`: 3.5 MB bodies (a multi-MB source in the origin sub-store), fsync on, one at a time;
 * reported: wall ms per put and the longest event-loop stall (gap between two turns of a
 * setImmediate spinner, which also competes for the CPU: wall times are pessimistic).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { readAll } from '../src/cache/util.js';
import type { createFsBackend as CreateFsBackend } from '../src/storage/fs.js';
import { isNotModified } from '../src/storage/types.js';
import { bodyDigest, DIGEST_SLICE } from '../src/body-digest.js';

const args = process.argv.slice(2);
function opt(name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : def;
}
const SECS = Number(opt('secs', '3'));
const CONC = Number(opt('conc', '16'));
const ROUNDS = Number(opt('rounds', '3'));
const SIZES = opt('sizes', '20000,60000,150000').split(',').map(Number);
/** `path[#{json backend options}]`. */
const IMPLS = args.includes('--impl') ? args.filter((_, i) => args[i - 1] === '--impl') : [];
if (IMPLS.length === 0) IMPLS.push('src/storage/fs.ts');
function splitImpl(spec: string): { path: string; options: Record<string, unknown> } {
  const at = spec.indexOf('#');
  return at < 0 ? { path: resolve(spec), options: {} } : { path: resolve(spec.slice(0, at)), options: JSON.parse(spec.slice(at + 1)) as Record<string, unknown> };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

interface Sample {
  opsPerSec: number;
  cpuUsPerOp: number;
  p99DelayMs: number;
}

/** Runs `op` in `CONC` concurrent loops for SECS seconds. */
async function drive(op: (i: number) => Promise<void>): Promise<Sample> {
  // Warm-up.
  for (let i = 0; i < 50; i++) await op(i);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SECS * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: CONC }, async (_, c) => {
      let i = c;
      while (performance.now() < end) {
        await op(i++);
        n++;
      }
    }),
  );
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  return { opsPerSec: (n / wall) * 1000, cpuUsPerOp: (cpu.user + cpu.system) / n, p99DelayMs: h.percentile(99) / 1e6 };
}

function fmt(name: string, xs: Sample[]): string {
  return `${name.padEnd(44)} ${median(xs.map((s) => s.opsPerSec)).toFixed(0).padStart(7)} ops/s  ${median(xs.map((s) => s.cpuUsPerOp)).toFixed(1).padStart(6)} µs CPU/op  p99 loop delay ${median(xs.map((s) => s.p99DelayMs)).toFixed(2)} ms   (ops/s runs: ${xs.map((s) => s.opsPerSec.toFixed(0)).join(', ')})`;
}

async function openStore(spec: string, dir: string, fsync: boolean): Promise<ReturnType<ReturnType<typeof CreateFsBackend>['open']>> {
  const { path, options } = splitImpl(spec);
  const mod = (await import(pathToFileURL(path).href)) as { createFsBackend: typeof CreateFsBackend };
  return mod.createFsBackend(dir, { ...options, fsync }).open('');
}

async function getBench(root: string): Promise<void> {
  const stores = await Promise.all(
    IMPLS.map(async (impl, i) => {
      const store = await openStore(impl, join(root, `impl${i}`), false);
      const keys = SIZES.map((s) => hex(`k${s}`));
      for (const [j, s] of SIZES.entries()) await store.put(keys[j] as string, randomBytes(s), { contentType: 'image/jpeg', expiresAt: Date.now() + 3_600_000, extra: { w: '300', h: '200' } });
      return { name: impl, store, keys };
    }),
  );
  const results = new Map<string, Sample[]>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const { name, store, keys } of stores) {
      const s = await drive(async (i) => {
        const res = await store.get(keys[i % keys.length] as string);
        if (res === null || isNotModified(res)) throw new Error('miss');
        await readAll(res.body);
      });
      results.set(name, [...(results.get(name) ?? []), s]);
    }
  }
  console.log(`get + readAll, sizes ${SIZES.join('/')} B, ${CONC} concurrent, ${SECS} s × ${ROUNDS} rounds (medians):`);
  for (const [name, xs] of results) console.log(`  ${fmt(name, xs)}`);
}

async function putBench(root: string): Promise<void> {
  const body = randomBytes(3_500_000);
  {
    // The hash alone: one call vs the longest slice of the sliced version.
    const one: number[] = [];
    const slice: number[] = [];
    for (let k = 0; k < 6; k++) {
      let t = performance.now();
      bodyDigest(body);
      one.push(performance.now() - t);
      let longest = 0;
      const h = createHash('sha256');
      for (let off = 0; off < body.length; off += DIGEST_SLICE) {
        t = performance.now();
        h.update(body.subarray(off, off + DIGEST_SLICE));
        longest = Math.max(longest, performance.now() - t);
      }
      slice.push(longest);
    }
    console.log(`sha256 of 3.5 MB on the event loop: one call ${median(one).toFixed(2)} ms; in ${DIGEST_SLICE / 1024} KiB slices, longest slice ${median(slice).toFixed(2)} ms`);
    // Noise floor of the stall measurement below: the same spinner with nothing else to do.
    let last = performance.now();
    let maxGap = 0;
    const end = last + 50;
    await new Promise<void>((done) => {
      const spin = (): void => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
        if (now < end) setImmediate(spin);
        else done();
      };
      setImmediate(spin);
    });
    console.log(`  (stall noise floor: longest gap of an idle spinner over 50 ms: ${maxGap.toFixed(1)} ms)`);
  }
  console.log('put 3.5 MB, fsync on, sequential (medians of 5):');
  for (const [i, impl] of IMPLS.entries()) {
    const store = await openStore(impl, join(root, `put${i}`), true);
    const walls: number[] = [];
    const stalls: number[] = [];
    for (let k = 0; k < 6; k++) {
      // A setImmediate spinner: the longest gap between two turns is the longest stall.
      let last = performance.now();
      let maxGap = 0;
      let spinning = true;
      const spin = (): void => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
        if (spinning) setImmediate(spin);
      };
      setImmediate(spin);
      const t0 = performance.now();
      await store.put(hex(`p${k}`), body, { contentType: 'image/jpeg', expiresAt: Date.now() + 3_600_000 });
      const wall = performance.now() - t0;
      spinning = false;
      if (k > 0) {
        walls.push(wall);
        stalls.push(maxGap);
      }
    }
    console.log(`  ${impl.padEnd(44)} ${median(walls).toFixed(1)} ms/put, longest loop stall ${median(stalls).toFixed(1)} ms  (stalls: ${stalls.map((s) => s.toFixed(1)).join(', ')})`);
  }
}

/** Raw file-call variants on one file of each size (no parsing, no checksum). */
async function rawBench(root: string): Promise<void> {
  const { mkdir, utimes, writeFile } = await import('node:fs/promises');
  await mkdir(join(root, 'raw'), { recursive: true });
  const files = await Promise.all(
    SIZES.map(async (s) => {
      const f = join(root, 'raw', `f${s}`);
      await writeFile(f, randomBytes(s));
      // Like an entry: mtime (= expiry) in the future, so relatime updates atime on every read.
      await utimes(f, new Date(), new Date(Date.now() + 3_600_000));
      return f;
    }),
  );
  const variants: Record<string, (f: string) => Promise<unknown>> = {
    'open+fstat+readFile+close (before)': async (f) => {
      const fh = await open(f, 'r');
      try {
        await fh.stat();
        return await fh.readFile();
      } finally {
        await fh.close();
      }
    },
    'open+fstat+read+close': async (f) => {
      const fh = await open(f, 'r');
      try {
        const st = await fh.stat();
        const buf = Buffer.allocUnsafe(st.size);
        await fh.read(buf, 0, st.size, 0);
        return buf;
      } finally {
        await fh.close();
      }
    },
    'open+fstat+read, close not awaited': async (f) => {
      const fh = await open(f, 'r');
      const st = await fh.stat();
      const buf = Buffer.allocUnsafe(st.size);
      await fh.read(buf, 0, st.size, 0);
      void fh.close();
      return buf;
    },
    'fs.promises.readFile (no fstat for us)': (f) => readFile(f),
    'sync open+fstat+read+close': async (f) => {
      const fd = openSync(f, 'r');
      try {
        const st = fstatSync(fd);
        const buf = Buffer.allocUnsafe(st.size);
        readSync(fd, buf, 0, st.size, 0);
        return buf;
      } finally {
        closeSync(fd);
      }
    },
    'sync, O_NOATIME (no kernel atime update)': async (f) => {
      const fd = openSync(f, constants.O_RDONLY | constants.O_NOATIME);
      try {
        const st = fstatSync(fd);
        const buf = Buffer.allocUnsafe(st.size);
        readSync(fd, buf, 0, st.size, 0);
        return buf;
      } finally {
        closeSync(fd);
      }
    },
    'sync + sha256 of the body': async (f) => {
      const fd = openSync(f, 'r');
      try {
        const st = fstatSync(fd);
        const buf = Buffer.allocUnsafe(st.size);
        readSync(fd, buf, 0, st.size, 0);
        return createHash('sha256').update(buf).digest();
      } finally {
        closeSync(fd);
      }
    },
  };
  const results = new Map<string, Sample[]>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(variants)) {
      const s = await drive(async (i) => {
        await fn(files[i % files.length] as string);
      });
      results.set(name, [...(results.get(name) ?? []), s]);
    }
  }
  console.log(`raw reads, sizes ${SIZES.join('/')} B, ${CONC} concurrent, ${SECS} s × ${ROUNDS} rounds (medians):`);
  for (const [name, xs] of results) console.log(`  ${fmt(name, xs)}`);
}

const root = await mkdtemp(join(tmpdir(), 'pixproxy-fs-micro-'));
try {
  if (args.includes('--raw')) await rawBench(root);
  else {
    if (!args.includes('--no-get')) await getBench(root);
    if (!args.includes('--no-put')) await putBench(root);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
