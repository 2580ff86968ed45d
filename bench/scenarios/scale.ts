/**
 * scale: (1) miss cost against source size — 1, 12 and 50 MP JPEGs, each request a new source
 * URL, pixproxy vs the sharp loop; (2) L2 (fs) hit latency with 1,000 vs 100,000 entries
 * (10,000 with --quick) in the cache directory, L1 = 0 MB, random keys among all entries.
 * The L2 is pre-filled by bench/prefill.ts through pixproxy's own cache code.
 */
import { readdirSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { emptyResult, fmtMs, fmtRatio, ratio, type Row, type ScenarioResult } from '../report.js';
import { get } from '../lib/http.js';
import { runCommand } from '../lib/proc.js';
import { expand, type Source } from '../lib/pattern.js';
import { pixproxyEnv, startBaseline, startPixproxy, type Server } from '../servers.js';
import { measure, warm, warmSpecs, type Ctx } from './context.js';
import { originBase, profileDir } from './shared.js';
import { MISS_CONNECTIONS } from './miss.js';
import { HIT_CONNECTIONS } from './hit.js';

const SIZES: Array<{ label: string; source: Source }> = [
  { label: '1 MP', source: { name: 'photo.jpg', ext: 'jpg' } },
  { label: '12 MP', source: { name: 'big.jpg', ext: 'jpg' } },
  { label: '50 MP', source: { name: 'huge.jpg', ext: 'jpg' } },
];

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countFiles(join(dir, e.name));
    else n += 1;
  }
  return n;
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
  const pattern = `/insecure/rs:fit:300:300/plain/${originBase(ctx)}/e/{n}/photo.jpg@jpg`;
  const counts = [1000, ctx.opts.quick ? 10_000 : 100_000];
  const rows: Row[] = [];
  let filled = 0;
  for (const count of counts) {
    const ms = await prefill(ctx, cacheDir, pattern, filled, count);
    result.facts.push([`pre-fill ${filled.toLocaleString('en-US')}..${count.toLocaleString('en-US')}`, `${Math.round(((count - filled) / ms) * 1000).toLocaleString('en-US')} entries/s; ${countFiles(cacheDir).toLocaleString('en-US')} files in the cache dir (${Math.round(dirBytes(cacheDir) / 1024 / 1024)} MB)`]);
    filled = count;
    const prof = ctx.opts.profile ? { profileDir: profileDir(ctx, `l2-${count}`) } : {};
    const pix = await startPixproxy(ctx.env, { cacheDir, memoryMb: 0, ...prof });
    try {
      // Entries must be real L2 hits: check a few random ones before measuring.
      for (let i = 0; i < 5; i++) await warm(pix, expand(pattern, Math.floor(Math.random() * count), []), 'HIT-L2', 1);
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
  }
  result.rows.push(...rows);
  const [small, large] = rows;
  if (small && large) result.facts.push([`L2 hit ${counts[1]?.toLocaleString('en-US')} vs ${counts[0]?.toLocaleString('en-US')} entries`, `req/s ${fmtRatio(ratio(large.reqPerSec, small.reqPerSec))}, p50 ${fmtMs(small.p50Ms)} → ${fmtMs(large.p50Ms)} ms, p99 ${fmtMs(small.p99Ms)} → ${fmtMs(large.p99Ms)} ms`]);
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
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
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
