/**
 * Baseline for cache hits: a bare node:http server sending the same bytes from memory, with
 * the headers a cached image response carries (type, length, ETag, Cache-Control). The
 * ceiling of any Node server answering a hit.
 *
 * usage: node --import tsx bench/baselines/bare-server.ts <port> <dir>
 */
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const port = Number(process.argv[2]);
const dir = process.argv[3] ?? '.';
const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

interface Entry {
  body: Buffer;
  headers: Record<string, string | number>;
}
const files = new Map<string, Entry>();
for (const name of readdirSync(dir)) {
  if (!TYPES[extname(name)]) continue;
  const body = readFileSync(join(dir, name));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  files.set(`/${name}`, {
    body,
    headers: { 'Content-Type': TYPES[extname(name)] ?? 'application/octet-stream', 'Content-Length': body.length, ETag: etag, 'Cache-Control': 'max-age=31536000, public' },
  });
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
  res.writeHead(200, f.headers);
  res.end(f.body);
}).listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`));
