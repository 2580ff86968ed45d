/**
 * A real loopback HTTP origin for source tests: node:http on 127.0.0.1, port 0, records
 * every request it receives, closes its keep-alive sockets on close.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Origin {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

export async function startOrigin(handler: (req: IncomingMessage, res: ServerResponse, origin: Origin) => void): Promise<Origin> {
  const requests: IncomingMessage[] = [];
  const origin = { requests } as unknown as Origin;
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, origin);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin.port = port;
  origin.url = `http://127.0.0.1:${port}`;
  origin.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return origin;
}
