/**
 * `pixproxy cache warm <file>`: requests every URL of a file (one a line; `#` comments and
 * blank lines skipped; a path is resolved against the server's main address or `--base`)
 * with a bounded number in flight, so the cache holds their results before the traffic
 * comes. A progress bar on stderr (done/total, rate, errors, ETA: redrawn in place on a
 * terminal, one line a second otherwise), a summary on stdout; exit code 1 when any URL failed.
 */
import { readFile } from 'node:fs/promises';
import { forEachLimited } from '../storage/delete-many.js';
import { configFromEnvironment, parse, UsageError, type Command } from './command.js';
import { healthTarget } from './health.js';

export interface WarmProgress {
  done: number;
  total: number;
  errors: number;
  elapsedMs: number;
}

const BAR = 24;

/** One progress line: `[#####-----] 40/100  12.3/s  errors 1  ETA 5s`. */
export function progressLine(p: WarmProgress): string {
  const filled = p.total === 0 ? BAR : Math.round((p.done / p.total) * BAR);
  const rate = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0;
  const eta = rate > 0 ? Math.ceil((p.total - p.done) / rate) : undefined;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${p.done}/${p.total}  ${rate.toFixed(1)}/s  errors ${p.errors}  ETA ${eta === undefined ? '?' : `${eta}s`}`;
}

/** The URLs of a warm file, resolved against `base`. */
export function warmUrls(text: string, base: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (/^https?:\/\//i.test(l) ? l : `${base}${l.startsWith('/') ? '' : '/'}${l}`));
}

export const command: Command = {
  usage: [
    'pixproxy cache warm <file> [--base <url>] [--concurrency <n>]',
    '',
    '  <file>          one URL or path a line (`#` comments)',
    '  --base          what paths are resolved against (default: the configured listen address)',
    '  --concurrency   requests in flight at once (default 4)',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parse(args, { base: { type: 'string' }, concurrency: { type: 'string' } }, { min: 1, max: 1 });
    const concurrency = Number(values.concurrency ?? '4');
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError(`--concurrency: expected 1 to 256, got ${JSON.stringify(values.concurrency)}`);
    const base = (values.base ?? new URL(healthTarget(configFromEnvironment()).url).origin).replace(/\/+$/, '');
    let text: string;
    try {
      text = await readFile(positionals[0] as string, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${positionals[0] ?? ''}: ${(err as Error).message}`);
    }
    const urls = warmUrls(text, base);
    const started = performance.now();
    const p: WarmProgress = { done: 0, total: urls.length, errors: 0, elapsedMs: 0 };
    const outcomes = new Map<string, number>();
    const tty = process.stderr.isTTY;
    let lastLine = 0;
    const draw = (final = false): void => {
      p.elapsedMs = performance.now() - started;
      if (tty) process.stderr.write(`\r${progressLine(p)}${final ? '\n' : ''}`);
      else if (final || p.elapsedMs - lastLine >= 1000) {
        lastLine = p.elapsedMs;
        process.stderr.write(`${progressLine(p)}\n`);
      }
    };
    const failures: string[] = [];
    await forEachLimited(urls, concurrency, async (url) => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
        await res.arrayBuffer();
        const cache = res.headers.get('x-cache') ?? 'none';
        outcomes.set(cache, (outcomes.get(cache) ?? 0) + 1);
        if (!res.ok) {
          p.errors++;
          failures.push(`${res.status} ${url}`);
        }
      } catch (err) {
        p.errors++;
        failures.push(`${(err as Error).message} ${url}`);
      }
      p.done++;
      draw();
    });
    draw(true);
    const secs = p.elapsedMs / 1000;
    const byCache = [...outcomes].map(([k, v]) => `${k} ${v}`).join(', ');
    process.stdout.write(`warmed ${p.total - p.errors}/${p.total} in ${secs.toFixed(1)}s (${(p.total / Math.max(secs, 0.001)).toFixed(1)}/s), errors ${p.errors}${byCache ? `; X-Cache: ${byCache}` : ''}\n`);
    for (const f of failures.slice(0, 20)) process.stdout.write(`  failed: ${f}\n`);
    return p.errors > 0 ? 1 : 0;
  },
};
