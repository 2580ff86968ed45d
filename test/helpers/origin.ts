/**
 * A real HTTP origin on 127.0.0.1 (port 0) for tests. `startOrigin` serves in-memory files,
 * counts requests per path, and can add headers, delays or failures per path;
 * `startHandlerOrigin` answers with a handler of the test's own, for source tests that need
 * odd answers (redirect chains, gzip, lying lengths). Both record every request and close
 * their keep-alive sockets on close.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type OriginHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HandlerOrigin {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

export interface OriginFile {
  body: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  status?: number;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

export interface Origin extends HandlerOrigin {
  files: Map<string, OriginFile>;
  /** Requests seen per path (GET only). */
  hits: Map<string, number>;
  count(path: string): number;
}

export async function startHandlerOrigin(handler: OriginHandler): Promise<HandlerOrigin> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export async function startOrigin(files: Record<string, OriginFile> = {}): Promise<Origin> {
  const map = new Map(Object.entries(files));
  const hits = new Map<string, number>();
  const base = await startHandlerOrigin((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const f = map.get(path);
    const answer = () => {
      if (!f) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      const etag = f.headers?.etag ?? f.headers?.ETag;
      if (etag && req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ...f.headers });
        res.end();
        return;
      }
      res.writeHead(f.status ?? 200, { 'Content-Type': f.contentType ?? 'application/octet-stream', 'Content-Length': f.body.length, ...f.headers });
      res.end(f.body);
    };
    if (f?.delayMs) setTimeout(answer, f.delayMs);
    else answer();
  });
  return { ...base, files: map, hits, count: (path) => hits.get(path) ?? 0 };
}
