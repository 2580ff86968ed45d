/**
 * Baseline for cache hits: a bare node:http server sending the same bytes from memory, with
 * the same headers pixproxy's hit carries: the list in `<file>.headers.json` next to each file
 * (written by the hit scenario from pixproxy's own answer: names, order and values), a new
 * X-Request-ID per request (a counter, as pixproxy makes them), one writeHead. Without that
 * file: type, length, ETag and Cache-Control. The ceiling of any Node server answering a hit.
 *
 * usage: node --import tsx bench/baselines/bare-server.ts <port> <dir>
 */
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const port = Number(process.argv[2]);
const dir = process.argv[3] ?? '.';
const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

interface Entry {
  body: Buffer;
  /** Flat name/value list; when it starts with X-Request-ID its value is replaced per request. */
  headers: string[];
}
const prefix = Math.random().toString(36).slice(2, 12);
let seq = 0;
const files = new Map<string, Entry>();
for (const name of readdirSync(dir)) {
  if (!TYPES[extname(name)]) continue;
  const body = readFileSync(join(dir, name));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const sidecar = join(dir, `${name}.headers.json`);
  const headers = existsSync(sidecar)
    ? (JSON.parse(readFileSync(sidecar, 'utf8')) as string[])
    : ['Content-Type', TYPES[extname(name)] ?? 'application/octet-stream', 'Content-Length', String(body.length), 'ETag', etag, 'Cache-Control', 'max-age=31536000, public'];
  files.set(`/${name}`, { body, headers });
}

createServer((req, res) => {
  const path = req.url ?? '/';
  if (path === '/health') {
    res.end('ok');
    return;
  }
  const f = files.get(path);
  if (!f) {
    res.writeHead(404);
    res.end();
    return;
  }
  if (f.headers[0] === 'X-Request-ID') f.headers[1] = prefix + (++seq).toString(36);
  res.writeHead(200, f.headers);
  res.end(f.body);
}).listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`));
