/**
 * Baseline for the L2 scale: a bare node:http server that reads one of pixproxy's own fs
 * entry files per request (synchronous open + fstat + read + close on the event loop, what
 * pixproxy's hot read path does, with nothing else: no key, no index, no checks) and sends
 * the entry's body with pixproxy's very headers. `/<n>` names `<dir>/<n>`, a symlink to the
 * n-th entry file (the scenario writes them), so the entry count and the files are the ones
 * pixproxy just served. What a Node server reading the same files by random key can do at
 * this entry count: the part of the slow-down with more entries that is the machine's (page
 * cache, inode and dentry lookups, CPU caches), not pixproxy's.
 *
 * usage: node --import tsx bench/baselines/files-server.ts <port> <dir> <headers.json>
 * (a flat name/value list as the hit scenario copies it; its Content-Length is replaced by the
 * body's, a leading X-Request-ID by a new id per request).
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createServer } from 'node:http';
import { BODY_HEAD, FIXED_HEAD } from '../../src/storage/fs-format.js';

const port = Number(process.argv[2]);
const dir = process.argv[3] ?? '.';
const headers = JSON.parse(readFileSync(process.argv[4] ?? '', 'utf8')) as string[];
const lengthAt = headers.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length') + 1;
const prefix = Math.random().toString(36).slice(2, 12);
let seq = 0;

function readEntry(file: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) return null;
      off += n;
    }
    return buf.subarray(FIXED_HEAD + buf.readUInt32BE(8) + BODY_HEAD);
  } finally {
    closeSync(fd);
  }
}

createServer((req, res) => {
  const path = req.url ?? '/';
  if (path === '/health') {
    res.end('ok');
    return;
  }
  const body = /^\/\d+$/.test(path) ? readEntry(dir + path) : null;
  if (!body) {
    res.writeHead(404);
    res.end();
    return;
  }
  if (headers[0] === 'X-Request-ID') headers[1] = prefix + (++seq).toString(36);
  if (lengthAt > 0) headers[lengthAt] = String(body.length);
  res.writeHead(200, headers);
  res.end(body);
}).listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`));
