/**
 * The request log off the hot path: lines are buffered (pino's asynchronous destination) and
 * none is lost when the process stops, on SIGTERM after N answered requests, or on
 * process.exit after a fatal error. Real child processes: the server (`src/main.ts`) and a
 * logger that exits at once.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../../helpers/process.js';
import { makePhoto } from '../../helpers/images.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';

let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin({ '/a.jpg': { body: await makePhoto(120, 90), contentType: 'image/jpeg' } });
});
afterAll(async () => {
  await origin.close();
});

interface Line {
  msg?: string;
  level?: string;
  request_id?: string;
  status?: number;
  method?: string;
  client_ip?: string;
  cache?: string;
}

const parse = (lines: string[]): Line[] =>
  lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);

describe('request log', () => {
  it('a server that answered N requests and gets SIGTERM has written all N request lines, in imgproxy\'s JSON shape', async () => {
    const srv = await spawnServer({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', IMGPROXY_LOG_FORMAT: 'json', PP_CACHE_MEMORY_MAX_MB: '16', IMGPROXY_CACHE_USE: 'none' });
    const N = 120;
    const ids: string[] = [];
    try {
      const path = `/unsafe/rs:fit:40:40/plain/${origin.url}/a.jpg`;
      for (let batch = 0; batch < N / 20; batch++) {
        await Promise.all(Array.from({ length: 20 }, async (_, i) => {
          const id = `req-${batch}-${i}`;
          const res = await fetch(`${srv.url}${path}`, { headers: { 'X-Request-ID': id } });
          expect(res.status).toBe(200);
          expect(res.headers.get('x-request-id')).toBe(id);
          await res.arrayBuffer();
          ids.push(id);
        }));
      }
    } finally {
      const closed = once(srv.child.stdout!, 'close');
      srv.child.kill('SIGTERM');
      await srv.exited;
      await closed;
    }
    const lines = parse(srv.logs).filter((l) => l.msg?.startsWith('Completed in '));
    expect(new Set(lines.map((l) => l.request_id))).toEqual(new Set(ids));
    expect(lines).toHaveLength(N);
    const line = lines[0] ?? {};
    expect(line.level).toBe('INFO');
    expect(line.method).toBe('GET');
    expect(line.status).toBe(200);
    expect(line.client_ip).toBe('127.0.0.1');
    expect(line.msg).toMatch(/^Completed in [\d.]+(ns|µs|ms|s) \/unsafe\/rs:fit:40:40\/plain\//);
    expect(lines.filter((l) => l.cache === 'HIT-L1').length).toBeGreaterThan(N / 2);
  }, 120_000);

  it('cluster workers sharing one stdout never cut into each other\'s lines (every batch is whole lines within PIPE_BUF)', async () => {
    const srv = await spawnServer({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PIXPROXY_PROCESSES: '2', IMGPROXY_CACHE_USE: 'none' });
    // stdout alone, from here on (srv.logs mixes in stderr).
    let stdout = '';
    srv.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const N = 400;
    try {
      // Long request URIs make long lines: batches of several KiB from both workers at once.
      const path = `/unsafe/rs:fit:40:40/plain/${origin.url}/a.jpg?${'x'.repeat(300)}`;
      for (let batch = 0; batch < N / 50; batch++) {
        await Promise.all(Array.from({ length: 50 }, async () => {
          const res = await fetch(`${srv.url}${path}`);
          expect(res.status).toBe(200);
          await res.arrayBuffer();
        }));
      }
    } finally {
      const closed = once(srv.child.stdout!, 'close');
      srv.child.kill('SIGTERM');
      await srv.exited;
      await closed;
    }
    const raw = stdout.split('\n').filter((l) => l.trim() !== '');
    for (const l of raw) expect(() => JSON.parse(l), l.slice(0, 120)).not.toThrow();
    expect(parse(raw).filter((l) => l.msg?.startsWith('Completed in '))).toHaveLength(N);
  }, 120_000);

  it('a process that logs and calls process.exit at once (a fatal error) loses no line', async () => {
    const script = [
      "import { createLogOutput } from './src/observability/logger.ts';",
      "const out = createLogOutput({ level: 'info', format: 'json' });",
      "for (let i = 0; i < 30; i++) out.logger.info({ i }, 'line');",
      "out.logger.fatal('fatal: exiting');",
      'process.exit(1);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(1);
    const lines = parse([stdout]);
    expect(lines.filter((l) => l.msg === 'line')).toHaveLength(30);
    expect(lines.at(-1)).toMatchObject({ level: 'CRITICAL', msg: 'fatal: exiting' });
  }, 60_000);
});
