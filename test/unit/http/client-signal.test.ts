/**
 * The client's signal (src/http/client-signal.ts) aborts when the client leaves before its
 * answer, also when it is made only after that (the image handler makes it once a cache
 * lookup missed, by which time the client may be gone).
 */
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientSignal } from '../../../src/http/client-signal.js';

/** A server whose one request is left open; resolves with its response once the client has gone. */
async function abandoned(): Promise<{ res: ServerResponse; close: () => Promise<void> }> {
  let gotRes: (res: ServerResponse) => void = () => undefined;
  const closed = new Promise<ServerResponse>((resolve) => (gotRes = resolve));
  const server = createServer((_req, res) => res.once('close', () => gotRes(res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const req = request({ host: '127.0.0.1', port, path: '/' });
  req.on('error', () => undefined);
  req.end();
  setTimeout(() => req.destroy(), 50);
  const res = await closed;
  return { res, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('clientSignal', () => {
  it('made after the client went away: already aborted, with CANCELLED', async () => {
    const { res, close } = await abandoned();
    try {
      const signal = clientSignal(res, 'gone');
      expect(signal.aborted).toBe(true);
      expect((signal.reason as { code?: string }).code).toBe('CANCELLED');
    } finally {
      await close();
    }
  });

  it('made while the client waits: aborts when it leaves', async () => {
    let signal: AbortSignal | undefined;
    const server = createServer((_req, res) => {
      signal = clientSignal(res, 'gone');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const req = request({ host: '127.0.0.1', port, path: '/' });
      req.on('error', () => undefined);
      req.end();
      while (signal === undefined) await new Promise((r) => setTimeout(r, 10));
      expect(signal.aborted).toBe(false);
      req.destroy();
      const s = signal;
      await new Promise<void>((resolve) => s.addEventListener('abort', () => resolve()));
      expect(s.aborted).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
