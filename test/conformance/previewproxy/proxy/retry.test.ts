/**
 * src/modules/proxy/retry.rs (https://github.com/ViGrise/previewproxy): `RetryFetcher` retries
 * connection errors only, PP_FETCH_RETRY_COUNT times, through a real server and an origin that
 * resets the connection a given number of times (upstream's counting mock fetcher). PreviewProxy
 * retries on its buffered path, so each request carries a transform.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { ported } from '../../harness.js';
import { tinyPng } from '../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, startHandlerOrigin, type HandlerOrigin } from '../pp.js';

describe('src/modules/proxy/retry.rs', () => {
  let o: HandlerOrigin;
  const seen = new Map<string, number>();
  const servers = ppServers();
  beforeAll(async () => {
    const png = await tinyPng();
    // /reset-<n>/…: the first n requests lose their connection; /missing: 404.
    o = await startHandlerOrigin((req, res) => {
      const path = req.url ?? '/';
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      const resets = Number(/^\/reset-(\d+)\//.exec(path)?.[1] ?? 0);
      if (n <= resets) return void req.socket.destroy();
      if (path.startsWith('/missing')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        return void res.end('not found');
      }
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length });
      res.end(png);
    });
  });
  afterAll(() => o.close());
  const ask = async (path: string, retries: string) => get(await servers.get({ PP_FETCH_RETRY_COUNT: retries, PP_FETCH_RETRY_DELAY_MS: '0' }), `/proxy?url=${enc(`${o.url}${path}`)}&w=1`);

  ported('retries_on_timeout_then_succeeds', async () => {
    expectOk(await ask('/reset-2/a.png', '3'));
    expect(seen.get('/reset-2/a.png')).toBe(3);
  });

  ported('does_not_retry_non_connection_errors', async () => {
    const r = await ask('/missing/b.png', '3');
    expect(r.status).toBe(404);
    expect(seen.get('/missing/b.png')).toBe(1);
  });

  ported('exhausts_retries_and_returns_last_error', async () => {
    expectPpError(await ask('/reset-99/c.png', '3'), 502, 'upstream_connection_error');
    expect(seen.get('/reset-99/c.png')).toBe(4);
  });

  ported('zero_retries_makes_single_attempt', async () => {
    expectPpError(await ask('/reset-99/d.png', '0'), 502, 'upstream_connection_error');
    expect(seen.get('/reset-99/d.png')).toBe(1);
  });
});
