/**
 * A real HTTP origin on 127.0.0.1 (port 0) for integration tests: serves in-memory files,
 * counts requests per path, and can add headers, delays or failures per path.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OriginFile {
  body: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  status?: number;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
}

export interface Origin {
  readonly url: string;
  readonly port: number;
  files: Map<string, OriginFile>;
  /** Requests seen per path (GET only). */
  hits: Map<string, number>;
  requests: IncomingMessage[];
  count(path: string): number;
  close(): Promise<void>;
}

export async function startOrigin(files: Record<string, OriginFile> = {}): Promise<Origin> {
  const map = new Map(Object.entries(files));
  const hits = new Map<string, number>();
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push(req);
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    files: map,
    hits,
    requests,
    count: (path) => hits.get(path) ?? 0,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
