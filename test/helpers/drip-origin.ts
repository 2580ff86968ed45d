/**
 * A loopback origin that trickles: every GET answers 200 at once with the whole image's
 * Content-Length, then writes its body one byte per `intervalMs`. It tracks its connections,
 * so a test can see when the proxy gives a download up (the connection closes).
 */
import type { Socket } from 'node:net';
import { startHandlerOrigin, type HandlerOrigin } from './origin.js';

export interface DripOrigin extends HandlerOrigin {
  /** Connections open now. */
  readonly open: number;
  /** Resolves once `n` requests have arrived (rejects after `ms`). */
  arrived(n: number, ms?: number): Promise<void>;
  /** Resolves once no connection is open (rejects after `ms`). */
  allClosed(ms?: number): Promise<void>;
}

function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (ok()) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`${what} not within ${ms} ms`));
      }
    }, 10);
  });
}

export async function startDripOrigin(body: Buffer, intervalMs = 1000): Promise<DripOrigin> {
  const sockets = new Set<Socket>();
  const origin = await startHandlerOrigin((req, res) => {
    const socket = req.socket;
    if (!sockets.has(socket)) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': body.length });
    let sent = 0;
    const drip = setInterval(() => {
      if (res.destroyed || sent >= body.length) {
        clearInterval(drip);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(body.subarray(sent, sent + 1));
      sent++;
    }, intervalMs);
    res.once('close', () => clearInterval(drip));
  });
  return {
    ...origin,
    get open() {
      return sockets.size;
    },
    arrived: (n, ms = 5000) => until(`${n} requests`, () => origin.requests.length >= n, ms),
    allClosed: (ms = 3000) => until('every connection closed', () => sockets.size === 0, ms),
  };
}
