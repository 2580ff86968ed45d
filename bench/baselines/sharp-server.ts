/**
 * Baseline "sharp loop": the physical limit of a miss. A bare node:http server that holds the
 * source bytes in memory and runs the same sharp transform per request, nothing else: no URL
 * dialect, no fetch, no cache. wrk drives it with the same number of requests in flight.
 *
 * `GET /<anything>/<name>?w=&h=&f=jpg|png` → sharp(bytes).rotate().resize(w, h, inside,
 * no enlargement) then the encoder with pixproxy's default settings (JPEG q80 with mozjpeg's
 * trellis/deringing/optimised coding as in src/processing/format.ts; PNG at sharp's
 * defaults), so the baseline does the same pixel work and only the proxy around it differs.
 * sharp's operation cache is off (as in pixproxy) so every request decodes its source.
 *
 * With an origin URL, `GET /fetch/<path>?w=&h=&f=` first downloads `<origin>/<path>` (Node's
 * fetch, the whole body into one Buffer) and transforms that: a miss's work, fetch included,
 * with nothing else around it. That is the baseline pixproxy's miss is compared with (the
 * download from the loopback origin excluded from neither).
 *
 * usage: node --import tsx bench/baselines/sharp-server.ts <port> <dir> [<origin-url>]
 */
import { createServer } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';

const port = Number(process.argv[2]);
const dir = process.argv[3] ?? '.';
const origin = process.argv[4];
sharp.cache(false);
const JPEG = { quality: 80, progressive: false, trellisQuantisation: true, overshootDeringing: true, quantisationTable: 3, optimiseCoding: true } as const;

const files = new Map<string, Buffer>();
for (const name of readdirSync(dir)) if (['.jpg', '.png'].includes(extname(name))) files.set(name, readFileSync(join(dir, name)));

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sharp');
  if (url.pathname === '/health') {
    res.end('ok');
    return;
  }
  const w = Number(url.searchParams.get('w')) || undefined;
  const h = Number(url.searchParams.get('h')) || undefined;
  const png = url.searchParams.get('f') === 'png';
  const fail = (status: number, err: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(String(err));
  };
  const transform = (input: Buffer): void => {
    const pipe = sharp(input).rotate().resize(w, h, { fit: 'inside', withoutEnlargement: true });
    (png ? pipe.png() : pipe.jpeg(JPEG)).toBuffer().then((out) => {
      res.writeHead(200, { 'Content-Type': png ? 'image/png' : 'image/jpeg', 'Content-Length': out.length });
      res.end(out);
    }, (err: unknown) => fail(500, err));
  };
  if (origin !== undefined && url.pathname.startsWith('/fetch/')) {
    fetch(origin + url.pathname.slice('/fetch'.length)).then(async (r) => {
      if (!r.ok) return fail(502, `origin ${r.status}`);
      transform(Buffer.from(await r.arrayBuffer()));
    }, (err: unknown) => fail(502, err));
    return;
  }
  const name = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  const input = files.get(name);
  if (!input) {
    res.writeHead(404);
    res.end();
    return;
  }
  transform(input);
}).listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ msg: 'listening', port, sharp: sharp.versions, concurrency: sharp.concurrency() })}\n`));
