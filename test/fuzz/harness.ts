/**
 * The URL fuzz run: a loopback origin with a few small images, two real pixproxy servers as
 * child processes (imgproxy paths + `/proxy?url=`, and PreviewProxy paths), and a fast-check
 * property over batches of generated URLs sent concurrently. Each answer must be below 500
 * (or 502/503/504, the origin and load statuses), a decodable image of the announced type
 * when it is 200, and come within the request timeout; both servers must be alive at the end.
 * Used by test/fuzz/urls.test.ts (fixed seed, bounded) and scripts/fuzz.ts (long runs).
 */
import { request, Agent, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import sharp from 'sharp';
import { MIME_TYPES, type ImageFormat } from '../../src/formats.js';
import { openImage } from '../../src/processing/codecs/source.js';
import { detectImageFormat } from '../../src/sources/detect.js';
import { makeAlphaPng, makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin, type OriginFile } from '../helpers/origin.js';
import { spawnServer, type ChildServer } from '../helpers/process.js';
import { imgproxyPath, previewproxyPath, previewproxyQuery, type GrammarContext } from './grammar.js';

export interface FuzzOptions {
  seed: number;
  /** Number of URLs (rounded up to whole batches). */
  urls: number;
  /** URLs sent at once. */
  batch?: number;
  /** IMGPROXY_TIMEOUT of the servers, seconds. */
  timeoutSeconds?: number;
  /** Called after each batch with the number of URLs sent so far. */
  progress?: (sent: number, stats: ReadonlyMap<number, number>) => void;
}

export interface Failure {
  url: string;
  why: string;
  /** The server's `internal error` log lines for this path, with their stack. */
  logs: string[];
}

export interface FuzzResult {
  sent: number;
  /** Answers by status (0 = no answer). */
  statuses: Map<number, number>;
  /** fast-check's report when the property failed (counterexample after shrinking). */
  report: string | null;
  failures: Failure[];
  alive: boolean;
}

const KEY = Buffer.from('fuzz-key');
const SALT = Buffer.from('fuzz-salt');
/** IMGPROXY_SOURCE_URL_ENCRYPTION_KEY of the imgproxy server (`/enc/` sources). */
const ENC_KEY = Buffer.alloc(32, 7);
const PRESETS = ['thumb', 'blurry', 'loop'];
/** Answers that are not our bugs: origin errors and load/timeouts (issue 9's rule). */
const SERVER_STATUSES_OK = new Set([502, 503, 504]);

async function sourceFiles(): Promise<Record<string, OriginFile>> {
  const photo = await makePhoto(64, 48);
  const alpha = await makeAlphaPng(40, 30);
  const red = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#f00' } }).png().toBuffer();
  const blue = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#00f' } }).png().toBuffer();
  const gif = await sharp([red, blue], { join: { animated: true } }).gif({ delay: [100, 100] }).toBuffer();
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="30" height="20" fill="#0a0"/><circle cx="15" cy="10" r="6" fill="#fff"/></svg>');
  const img = (body: Buffer, contentType: string): OriginFile => ({ body, contentType });
  return {
    '/photo.jpg': img(photo, 'image/jpeg'),
    '/alpha.png': img(alpha, 'image/png'),
    '/photo.webp': img(await sharp(photo).webp().toBuffer(), 'image/webp'),
    '/anim.gif': img(gif, 'image/gif'),
    '/shape.svg': img(svg, 'image/svg+xml'),
    '/photo.tiff': img(await sharp(photo).tiff().toBuffer(), 'image/tiff'),
    // 日本 é.png, as the origin sees the path (percent-encoded, as undici sends it).
    '/%E6%97%A5%E6%9C%AC%20%C3%A9.png': img(red, 'image/png'),
    '/truncated.jpg': img(photo.subarray(0, photo.length >> 1), 'image/jpeg'),
    '/text.txt': img(Buffer.from('not an image'), 'text/plain'),
    '/wm.png': img(await sharp({ create: { width: 12, height: 12, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0.6 } } }).png().toBuffer(), 'image/png'),
  };
}

/** Percent-encodes what a client may not put in a request line (as browsers do). */
function wire(path: string): string {
  return path.replace(/[^\x21-\x7E]/gu, (c) => encodeURIComponent(c));
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  ms: number;
  error?: string;
}

function get(base: string, path: string, agent: Agent, timeoutMs: number): Promise<Answer> {
  const started = Date.now();
  const u = new URL(base);
  return new Promise((resolve) => {
    const req = request({ host: u.hostname, port: u.port, path, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: Date.now() - started }));
      res.on('error', (err) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0), ms: Date.now() - started, error: `body: ${err.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 0, headers: {}, body: Buffer.alloc(0), ms: Date.now() - started, error: err.message }));
    req.end();
  });
}

const FORMAT_BY_MIME = new Map((Object.keys(MIME_TYPES) as ImageFormat[]).map((f) => [MIME_TYPES[f], f]));
// HEVC HEIC, JPEG XL, BMP and ICO are decoded by their codecs (the reader every source goes through).
const SHARP_DECODES = new Set<ImageFormat>(['jpeg', 'png', 'webp', 'gif', 'tiff', 'svg', 'avif']);

/**
 * Why this answer breaks the rules, or null. `sources`: the origin's files, which `raw` and
 * `skip_processing` return untouched (a truncated source stays truncated: imgproxy's `raw`
 * checks nothing either). `/info` answers JSON.
 */
async function judge(a: Answer, timeoutMs: number, sources: readonly Buffer[], info: boolean): Promise<string | null> {
  if (a.error) return `no complete answer: ${a.error}`;
  if (a.ms > timeoutMs) return `answered after ${a.ms} ms (timeout ${timeoutMs} ms)`;
  if (a.status >= 500 && !SERVER_STATUSES_OK.has(a.status)) return `status ${a.status}: ${a.body.toString('utf8', 0, 200)}`;
  if (a.status !== 200) return null;
  const type = String(a.headers['content-type'] ?? '');
  if (info) {
    try {
      JSON.parse(a.body.toString('utf8'));
      return type.startsWith('application/json') ? null : `/info 200 with Content-Type ${JSON.stringify(type)}`;
    } catch {
      return `/info 200 that is not JSON: ${a.body.toString('utf8', 0, 200)}`;
    }
  }
  const format = FORMAT_BY_MIME.get(type);
  if (format === undefined) return `200 with Content-Type ${JSON.stringify(type)}`;
  if (sources.some((s) => s.equals(a.body))) return null;
  const detected = detectImageFormat(a.body);
  // ICO holds a PNG or BMP; detect may name the container either way.
  if (detected !== format && !(format === 'ico' && detected === 'png')) return `200 ${type} but the body reads as ${detected ?? 'nothing'} (${a.body.length} bytes)`;
  try {
    if (SHARP_DECODES.has(format)) await sharp(a.body, { animated: true }).raw().toBuffer();
    else {
      await (await openImage(a.body, { maxPixels: 2 ** 28, maxFrames: 1, deadline: Date.now() + 60_000 })).raw().toBuffer();
    }
  } catch (err) {
    return `200 ${type} that does not decode: ${err instanceof Error ? err.message : String(err)}`;
  }
  return null;
}

/** Plain data, so that fast-check prints a counterexample as the URLs it is. */
interface Target {
  to: 'imgproxy' | 'previewproxy';
  path: string;
}

/** Lines of the server log that report an internal error, trimmed to those (logs grow). */
function internalErrors(server: ChildServer, path: string): string[] {
  return server.logs.filter((l) => l.includes('"internal error"') && l.includes(JSON.stringify(path.split('?')[0]).slice(1, -1)));
}

function trimLogs(server: ChildServer): void {
  const keep = server.logs.filter((l) => l.includes('"level":50') || l.includes('"level":60') || l.includes('"internal error"'));
  server.logs.splice(0, server.logs.length, ...keep.slice(-500));
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const batch = opts.batch ?? 6;
  const timeoutSeconds = opts.timeoutSeconds ?? 10;
  // The server must answer by IMGPROXY_TIMEOUT; the slack covers a loaded machine's scheduling.
  const timeoutMs = timeoutSeconds * 1000 + 5000;
  const files = await sourceFiles();
  const origin: Origin = await startOrigin(files);
  const dirs = await Promise.all(['a', 'b', 'root'].map((n) => mkdtemp(join(tmpdir(), `pixproxy-fuzz-${n}-`))));
  const [cacheA = '', cacheB = '', root = ''] = dirs;
  await writeFile(join(root, 'a.png'), files['/alpha.png']?.body ?? Buffer.alloc(0));
  const watermarkUrl = `${origin.url}/wm.png`;
  const common = {
    IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
    IMGPROXY_TIMEOUT: String(timeoutSeconds),
    IMGPROXY_DOWNLOAD_TIMEOUT: String(timeoutSeconds),
    // Bounds every result (and so every request's work) while the fuzzer looks for 500s.
    IMGPROXY_MAX_RESULT_DIMENSION: '1024',
    IMGPROXY_WATERMARK_URL: watermarkUrl,
    IMGPROXY_LOCAL_FILESYSTEM_ROOT: root,
    PP_CACHE_CLEANUP_INTERVAL_SECS: '0',
    PP_CACHE_DISK_MAX_MB: '64',
  };
  const servers: ChildServer[] = [];
  const result: FuzzResult = { sent: 0, statuses: new Map(), report: null, failures: [], alive: false };
  const agent = new Agent({ keepAlive: true, maxSockets: batch * 2 });
  try {
    const a = await spawnServer({
      ...common,
      PP_CACHE_DIR: cacheA,
      IMGPROXY_KEY: KEY.toString('hex'),
      IMGPROXY_SALT: SALT.toString('hex'),
      IMGPROXY_ALLOW_SECURITY_OPTIONS: 'true',
      IMGPROXY_PRESETS: 'thumb=rs:fill:50:50/q:70,blurry=bl:2/pr:thumb,loop=pr:loop/w:20',
      IMGPROXY_SOURCE_URL_ENCRYPTION_KEY: ENC_KEY.toString('hex'),
    });
    servers.push(a);
    const b = await spawnServer({ ...common, PP_CACHE_DIR: cacheB, PIXPROXY_PATH_DIALECT: 'previewproxy', PP_DEFAULT_SOURCE_URL: origin.url });
    servers.push(b);

    const sources = Object.values(files).map((f) => f.body);
    const ctx: GrammarContext = { origin: origin.url, files: Object.keys(files), key: KEY, salt: SALT, encKey: ENC_KEY, presets: PRESETS, watermarkUrl };
    const target = fc.oneof(
      { weight: 6, arbitrary: imgproxyPath(ctx).map((path): Target => ({ to: 'imgproxy', path: wire(path) })) },
      { weight: 2, arbitrary: previewproxyQuery(ctx).map((path): Target => ({ to: 'imgproxy', path: wire(path) })) },
      { weight: 2, arbitrary: previewproxyPath(ctx).map((path): Target => ({ to: 'previewproxy', path: wire(path) })) },
    );

    const property = fc.asyncProperty(fc.array(target, { minLength: batch, maxLength: batch }), async (targets) => {
      const serverOf = (t: Target): ChildServer => (t.to === 'imgproxy' ? a : b);
      const answers = await Promise.all(targets.map((t) => get(serverOf(t).url, t.path, agent, timeoutMs)));
      result.sent += targets.length;
      const bad: Failure[] = [];
      for (const [i, ans] of answers.entries()) {
        result.statuses.set(ans.status, (result.statuses.get(ans.status) ?? 0) + 1);
        const t = targets[i];
        if (!t) continue;
        const why = await judge(ans, timeoutMs, sources, t.path.startsWith('/info/'));
        if (why !== null) bad.push({ url: `${serverOf(t).url}${t.path}`, why, logs: internalErrors(serverOf(t), t.path) });
      }
      for (const s of servers) trimLogs(s);
      opts.progress?.(result.sent, result.statuses);
      if (bad.length > 0) {
        // Each failing URL is kept (shrinking re-sends smaller batches; all of them are bugs).
        for (const f of bad) if (!result.failures.some((g) => g.url === f.url)) result.failures.push(f);
        throw new Error(bad.map((f) => `${f.url}\n  ${f.why}`).join('\n'));
      }
    });
    const details = await fc.check(property, { seed: opts.seed, numRuns: Math.ceil(opts.urls / batch), endOnFailure: false, maxSkipsPerRun: 0 });
    if (details.failed) result.report = fc.defaultReportMessage(details) ?? 'failed';

    const health = await Promise.all(servers.map((s) => get(s.url, '/health', agent, 10_000)));
    result.alive = servers.every((s) => s.child.exitCode === null && s.child.signalCode === null) && health.every((h) => h.status === 200);
    return result;
  } finally {
    agent.destroy();
    for (const s of servers) {
      s.child.kill('SIGTERM');
      const t = setTimeout(() => s.child.kill('SIGKILL'), 5000);
      await s.exited;
      clearTimeout(t);
    }
    await origin.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}
