/**
 * Pre-fills pixproxy's L2 with many entries, fast but for real: builds the app in-process
 * with the same configuration as the server (environment), derives each key exactly as a
 * request would (dialect.parseImage → cache.key) and writes through the cache's own store
 * path. Every entry holds the same real 300 px JPEG. Nothing listens.
 *
 * usage: node --import tsx bench/prefill.ts <pattern> <from> <to> <source-image>
 * (environment: the pixproxy variables, PP_CACHE_DIR first). Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { silentLogger } from '../src/observability/logger.js';
import { computeEtag, type CachedImage } from '../src/cache/index.js';
import { expand } from './lib/pattern.js';

const [pattern = '', fromArg = '0', toArg = '0', sourceFile = ''] = process.argv.slice(2);
const from = Number(fromArg);
const to = Number(toArg);
const WINDOW = 256;

async function main(): Promise<void> {
  const { data, info } = await sharp(readFileSync(sourceFile)).resize(300, 300, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer({ resolveWithObject: true });
  const app = await createApp(loadConfig(process.env), { logger: silentLogger(), defaultMetrics: false });
  const { ctx } = app;
  const image: CachedImage = {
    data,
    contentType: 'image/jpeg',
    format: 'jpeg',
    width: info.width,
    height: info.height,
    etag: computeEtag(data),
    createdAt: Date.now(),
  };
  const started = Date.now();
  // store() is fire-and-forget; flush() waits for the background writes, which bounds how
  // many are in flight (and the open files) to one window.
  for (let n = from; n < to; n++) {
    const request = ctx.dialect.parseImage(expand(pattern, n, []), {});
    ctx.cache.store(ctx.cache.key(request, {}), image);
    if ((n - from) % WINDOW === WINDOW - 1) await ctx.cache.flush();
  }
  await ctx.cache.flush();
  await app.close();
  process.stdout.write(`${JSON.stringify({ entries: to - from, ms: Date.now() - started })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`prefill failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
