/**
 * scale: (1) miss cost against source size — 1, 12 and 50 MP JPEGs, each request a new source
 * URL, pixproxy vs the sharp loop; (2) L2 (fs) hit latency with 1,000 vs 100,000 entries
 * (10,000 with --quick) in the cache directory, L1 = 0 MB, random keys among all entries.
 * The L2 is pre-filled by bench/prefill.ts through pixproxy's own cache code.
 */
import { mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { KEY_RE } from '../../src/storage/fs-layout.js';
import { freePort } from '../lib/proc.js';
import { startNginx } from '../nginx.js';
import { emptyResult, fmtMs, fmtRatio, ratio, type Row, type ScenarioResult } from '../report.js';
import { get } from '../lib/http.js';
import { runCommand } from '../lib/proc.js';
import { expand, type Source } from '../lib/pattern.js';
import { pixproxyEnv, startBaseline, startPixproxy, type Server } from '../servers.js';
import { measure, warm, warmSpecs, type Ctx, type MeasureSpec } from './context.js';
import { answerHeaders } from './hit.js';
import { originBase, profileDir } from './shared.js';
import { MISS_CONNECTIONS } from './miss.js';
import { HIT_CONNECTIONS } from './hit.js';

const SIZES: Array<{ label: string; source: Source }> = [
  { label: '1 MP', source: { name: 'photo.jpg', ext: 'jpg' } },
  { label: '12 MP', source: { name: 'big.jpg', ext: 'jpg' } },
  { label: '50 MP', source: { name: 'huge.jpg', ext: 'jpg' } },
];

/** Every file under `dir` (recursively), as [path, name]. */
function* filesUnder(dir: string): Generator<[string, string]> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(p);
    else yield [p, e.name];
  }
}

async function missBySize(ctx: Ctx, result: ScenarioResult): Promise<void> {
  const o = originBase(ctx);
  for (const size of SIZES) {
    const servers: Server[] = [];
    try {
      const pix = await startPixproxy(ctx.env, { cacheDir: join(ctx.workDir, 'scale-miss-cache') });
      servers.push(pix);
      const sharpSrv = await startBaseline(ctx.env, 'sharp', ctx.srcDir);
      servers.push(sharpSrv);
      const specs = [
        { server: pix, kind: 'pixproxy' as const, note: `miss, ${size.label}`, pattern: `/insecure/rs:fit:{w}:{h}/plain/${o}/m/{n}/{src}@{ext}`, mode: 'seq' as const, sources: [size.source] },
        { server: sharpSrv, kind: 'baseline' as const, note: `${size.label}`, pattern: '/{src}?w={w}&h={h}&f={ext}', mode: 'seq' as const, sources: [size.source] },
      ];
      await warmSpecs(specs, 1);
      const rows = await measure(ctx, specs, { connections: MISS_CONNECTIONS, timeoutS: 60 });
      result.rows.push(...rows);
      const [p, s] = rows;
      result.facts.push([`miss ${size.label}: pixproxy / sharp loop`, `${fmtRatio(ratio(p?.reqPerSec, s?.reqPerSec))} (p50 ${fmtMs(p?.p50Ms ?? Number.NaN)} vs ${fmtMs(s?.p50Ms ?? Number.NaN)} ms)`]);
    } finally {
      for (const s of servers) await s.stop();
    }
  }
}

async function prefill(ctx: Ctx, cacheDir: string, pattern: string, from: number, to: number): Promise<number> {
  const args = ['--import', 'tsx', join(ctx.env.root, 'bench', 'prefill.ts'), pattern, String(from), String(to), join(ctx.srcDir, 'photo.jpg')];
  ctx.log(`  pre-filling L2 entries ${from}..${to - 1}…`);
  const r = await runCommand('prefill', process.execPath, args, { cwd: ctx.env.root, env: { ...pixproxyEnv(0, { cacheDir, memoryMb: 0 }), ...ctx.env.pixproxyEnv } });
  if (r.code !== 0) throw new Error(`prefill failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { ms?: number };
  return out.ms ?? Number.NaN;
}

async function l2ByEntries(ctx: Ctx, result: ScenarioResult): Promise<void> {
  const cacheDir = join(ctx.workDir, 'scale-l2-cache');
  // A fresh store: `scale` and `l2-scale` in one run would otherwise measure "1,000 entries" in the 100,000 the other left.
  rmSync(cacheDir, { recursive: true, force: true });
  const pattern = `/insecure/rs:fit:300:300/plain/${originBase(ctx)}/e/{n}/photo.jpg@jpg`;
  const counts = [1000, ctx.opts.quick ? 10_000 : 100_000];
  const headersFile = join(ctx.workDir, 'scale-headers.json');
  const rows: Row[] = [];
  const baseRows: Row[] = [];
  const nginxRows: Row[] = [];
  let filled = 0;
  for (const count of counts) {
    const ms = await prefill(ctx, cacheDir, pattern, filled, count);
    result.facts.push([`pre-fill ${filled.toLocaleString('en-US')}..${count.toLocaleString('en-US')}`, `${Math.round(((count - filled) / ms) * 1000).toLocaleString('en-US')} entries/s; ${[...filesUnder(cacheDir)].length.toLocaleString('en-US')} files in the cache dir (${Math.round(dirBytes(cacheDir) / 1024 / 1024)} MB)`]);
    filled = count;
    const prof = ctx.opts.profile ? { profileDir: profileDir(ctx, `l2-${count}`) } : {};
    const pix = await startPixproxy(ctx.env, { cacheDir, memoryMb: 0, ...prof });
    try {
      // Entries must be real L2 hits: check a few random ones before measuring.
      for (let i = 0; i < 5; i++) {
        const r = await warm(pix, expand(pattern, Math.floor(Math.random() * count), []), 'HIT-L2', 1);
        if (i === 0) writeFileSync(headersFile, JSON.stringify(answerHeaders(r.rawHeaders)));
      }
      // Steady state: a fresh process checks each entry's body on its first read (then trusts
      // the very same file), so every entry is read once before the measurement; the rate of
      // that first pass is reported on its own.
      const first = await readEach(pix, pattern, count);
      result.facts.push([`first read of each of ${count.toLocaleString('en-US')} entries after the restart`, `${Math.round(first).toLocaleString('en-US')} req/s (body checksums checked once per file)`]);
      const [row] = await measure(ctx, [{ server: pix, kind: 'pixproxy', note: `L2 hit, ${count.toLocaleString('en-US')} entries`, pattern, mode: 'rand', k: count, sources: [] }], { connections: HIT_CONNECTIONS });
      if (row) rows.push(row);
    } finally {
      await pix.stop();
      if (ctx.opts.profile) ctx.profiles.push({ scenario: `l2-hit, ${count.toLocaleString('en-US')} entries (scale)`, dir: profileDir(ctx, `l2-${count}`) });
    }
    const [bare, nginx] = await filesBaselines(ctx, cacheDir, headersFile, count);
    if (bare) baseRows.push(bare);
    if (nginx) nginxRows.push(nginx);
  }
  result.rows.push(...interleave(rows, baseRows, nginxRows));
  const line = (r: Row[]): string => {
    const [small, large] = r;
    return small && large ? `req/s ${fmtRatio(ratio(large.reqPerSec, small.reqPerSec))}, p50 ${fmtMs(small.p50Ms)} → ${fmtMs(large.p50Ms)} ms, p99 ${fmtMs(small.p99Ms)} → ${fmtMs(large.p99Ms)} ms` : 'n/a';
  };
  const span = `${counts[1]?.toLocaleString('en-US')} vs ${counts[0]?.toLocaleString('en-US')} entries`;
  result.facts.push([`L2 hit ${span}`, line(rows)]);
  if (baseRows.length === 2) result.facts.push([`bare node:http reading the same entry files, ${span}`, line(baseRows)]);
  if (nginxRows.length === 2) result.facts.push([`nginx static on the same entry files, ${span}`, line(nginxRows)]);
}

/** pixproxy's row at each entry count, then the baselines' at that count (the ratio column compares with it). */
function interleave(pix: Row[], ...others: Row[][]): Row[] {
  return pix.flatMap((row, i) => [row, ...others.flatMap((o) => (o[i] ? [o[i]] : []))]);
}

/**
 * The same entry files read by random key without pixproxy: a bare node:http server
 * (bench/baselines/files-server.ts: sync open/fstat/read/close, the body sent with
 * pixproxy's headers) and nginx static (the whole files, sendfile, open_file_cache of 1,000).
 * `/<n>` is a symlink to the n-th entry file, written here for this count.
 */
async function filesBaselines(ctx: Ctx, cacheDir: string, headersFile: string, count: number): Promise<[Row | undefined, Row | undefined]> {
  const links = join(ctx.workDir, 'scale-links');
  const linked = linkEntries(cacheDir, links);
  if (linked !== count) ctx.log(`  ${linked.toLocaleString('en-US')} entry files linked for ${count.toLocaleString('en-US')} entries`);
  const servers: Server[] = [];
  try {
    const bare = await startBaseline(ctx.env, 'files', links, [headersFile]);
    servers.push(bare);
    const specs: MeasureSpec[] = [{ server: bare, kind: 'baseline', note: `same files, ${linked.toLocaleString('en-US')}`, pattern: '/{n}', mode: 'rand', k: linked, sources: [] }];
    await warm(bare, '/0');
    if (ctx.tools.has('nginx')) {
      const port = await freePort();
      const proc = await startNginx({ dir: join(ctx.workDir, 'scale-nginx'), port, filesFrom: links, inPlace: true });
      const nginx: Server = { name: 'nginx static', url: `http://127.0.0.1:${port}`, port, proc, withChildren: true, stop: () => proc.stop() };
      servers.push(nginx);
      specs.push({ server: nginx, kind: 'baseline', note: `same files, ${linked.toLocaleString('en-US')}`, pattern: '/{n}', mode: 'rand', k: linked, sources: [] });
      await warm(nginx, '/0');
    }
    const rows = await measure(ctx, specs, { connections: HIT_CONNECTIONS });
    return [rows[0], rows[1]];
  } finally {
    for (const s of servers) await s.stop();
  }
}

/** Replaces `links` with symlinks 0, 1, … to each entry file under `dir` (name keys only); returns how many. */
function linkEntries(dir: string, links: string): number {
  rmSync(links, { recursive: true, force: true });
  mkdirSync(links, { recursive: true });
  let n = 0;
  for (const [p, name] of filesUnder(dir)) if (KEY_RE.test(name)) symlinkSync(p, join(links, String(n++)));
  return n;
}

/** GETs every entry once, 16 at a time on keep-alive connections; returns requests per second. */
async function readEach(pix: Server, pattern: string, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: HIT_CONNECTIONS });
  const started = Date.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: HIT_CONNECTIONS }, async () => {
        while (next < count) {
          const r = await get(pix.url + expand(pattern, next++, []), agent);
          if (r.status !== 200) throw new Error(`first read: ${r.status}`);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return (count / (Date.now() - started)) * 1000;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const [p] of filesUnder(dir)) n += statSync(p).size;
  return n;
}

export async function scaleScenario(ctx: Ctx): Promise<ScenarioResult> {
  const result = emptyResult(
    'scale',
    'scale — source size and cache size',
    `Miss throughput for 1, 12 and 50 MP sources (${MISS_CONNECTIONS} in flight, pixproxy vs sharp loop), then L2 (fs) hit latency with ${ctx.opts.quick ? '1,000 vs 10,000' : '1,000 vs 100,000'} entries (${HIT_CONNECTIONS} connections, random keys, L1 = 0 MB).`,
  );
  await missBySize(ctx, result);
  await l2Part(ctx, result);
  return result;
}

/** The L2 part of `scale` alone (`--scenario l2-scale`): no miss runs, for quicker L2 work. */
export async function l2ScaleScenario(ctx: Ctx): Promise<ScenarioResult> {
  const result = emptyResult(
    'l2-scale',
    'l2-scale — L2 hit latency against the entry count',
    `L2 (fs) hit latency with ${ctx.opts.quick ? '1,000 vs 10,000' : '1,000 vs 100,000'} entries (${HIT_CONNECTIONS} connections, random keys, L1 = 0 MB): the second half of \`scale\`.`,
  );
  await l2Part(ctx, result);
  return result;
}

async function l2Part(ctx: Ctx, result: ScenarioResult): Promise<void> {
  try {
    await l2ByEntries(ctx, result);
  } catch (err) {
    result.notes.push(`L2 entries part failed: ${err instanceof Error ? err.message.split('\n').slice(0, 5).join(' ') : String(err)}`);
  }
}
