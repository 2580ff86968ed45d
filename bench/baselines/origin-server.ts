/**
 * The loopback origin of every scenario: serves the generated source images from memory.
 * `/v/<anything>/<name>` serves `<name>` too, so a benchmark can ask for a never-seen source
 * URL (a real upstream fetch) without generating new files.
 * `GET /__stats?path=<p>` answers `{ total, path, prefix }`: GETs served in all, for that path,
 * and per first path segment of `/<segment>/<anything>/<name>` URLs (`root` for `/<name>`).
 *
 * usage: node --import tsx bench/baselines/origin-server.ts <port> <dir>
 */
import { createServer } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

const port = Number(process.argv[2]);
const dir = process.argv[3] ?? '.';
const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

const files = new Map<string, Buffer>();
for (const name of readdirSync(dir)) if (TYPES[extname(name)]) files.set(name, readFileSync(join(dir, name)));

let total = 0;
const perPath = new Map<string, number>();
const perPrefix: Record<string, number> = {};

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://origin');
  if (url.pathname === '/__stats') {
    const p = url.searchParams.get('path') ?? '';
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ total, path: perPath.get(p) ?? 0, prefix: perPrefix }));
    return;
  }
  if (url.pathname === '/health') {
    res.end('ok');
    return;
  }
  total += 1;
  perPath.set(url.pathname, (perPath.get(url.pathname) ?? 0) + 1);
  const segments = url.pathname.split('/');
  const prefix = segments.length > 3 ? (segments[1] ?? 'root') : 'root';
  perPrefix[prefix] = (perPrefix[prefix] ?? 0) + 1;
  const name = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  const body = files.get(name);
  if (!body) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
    return;
  }
  // Long freshness like a real image origin/CDN, so the proxy's origin sub-store can keep it.
  res.writeHead(200, { 'Content-Type': TYPES[extname(name)] ?? 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'public, max-age=31536000' });
  res.end(body);
}).listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`));
