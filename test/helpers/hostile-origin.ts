/**
 * A hostile HTTP origin on 127.0.0.1 (port 0) for source, hardening and memory tests. It is a
 * raw TCP server (node:net) rather than node:http, so it can break HTTP the ways a broken or
 * malicious origin does: lie about lengths, never finish, drip, smuggle a second response,
 * compress a gigabyte into a kilobyte. The first path segment picks the behaviour
 * (`/gzip?size=…`, `/drip/bucket/key`: so it can stand in for an object store's endpoint or
 * bucket too), see HostileKind. Every connection is recorded with its open and close times, so a test can
 * check that the proxy let go of it (cancellation) and how much the origin managed to send.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Transform } from 'node:stream';
import { constants as zc, createBrotliCompress, createDeflate, gzipSync } from 'node:zlib';

export type HostileKind =
  /** Reads the request and never answers (the connection stays open). */
  | 'silent'
  /** Sends the status line and headers one byte every `interval` ms, never finishing them. */
  | 'drip-headers'
  /** 200 with `Content-Length: size`, then one body byte every `interval` ms. */
  | 'drip'
  /** `Content-Encoding: gzip`: `size` zero bytes once decoded, as concatenated 1 MiB members (RFC 1952 §2.2). */
  | 'gzip'
  /** `Content-Encoding: gzip, gzip`: the gzip bomb gzipped again. */
  | 'gzip-gzip'
  /** `Content-Encoding: deflate` (zlib format, RFC 1950): `size` zero bytes once decoded. */
  | 'deflate'
  /** `Content-Encoding: br`: `size` zero bytes once decoded. */
  | 'br'
  /** `Content-Length` of the image, the image, then a smuggled second response on the same connection. */
  | 'longer'
  /** `Content-Length` of the image, half of it, then the connection closes. */
  | 'shorter'
  /** Chunked: the image in chunks, then the connection closes without the last chunk. */
  | 'chunked-cut'
  /** Chunked: the first half of the image, then nothing more (the connection stays open). */
  | 'chunked-stall'
  /** 200 with `Content-Length: 99999999999`, then zeros as fast as the reader takes them. */
  | 'huge-length'
  /** Chunked, `size` zero bytes (default 10 GiB) as fast as the reader takes them. */
  | 'endless'
  /** 302 to `to` (default: itself, a loop). */
  | 'redirect'
  /** 302 to `to` (default: /image) whose own body drips one byte every `interval` ms and never ends. */
  | 'redirect-drip'
  /** 200 with the image, properly (the control case). */
  | 'image'
  /** 200 with `size` bytes (default 4 MiB) and `Connection: close`, then the connection closes at once. */
  | 'close'
  /** 200 with `Connection: close` announcing twice `size` bytes (default 256 KiB), `size` of them, then a TCP reset. */
  | 'reset';

export interface HostileConnection {
  /** Path of the last request read on it, or '' before one arrived. */
  path: string;
  kind: HostileKind | undefined;
  openedAt: number;
  closedAt: number | undefined;
  /** Bytes written to the socket so far. */
  bytesOut: number;
  /** Resolves with Date.now() when the socket closes. */
  closed: Promise<number>;
  /** When it closed (Date.now()), waiting at most `ms` for it; undefined if it is still open then. */
  closedWithin(ms: number): Promise<number | undefined>;
}

export interface HostileOrigin {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** URL of a behaviour: `origin.at('gzip', { size: 1 << 30 })`. */
  at(kind: HostileKind, params?: { size?: number; interval?: number; to?: string }): string;
  readonly connections: HostileConnection[];
  /**
   * Compresses a bomb ahead of time (deflate of 1 GiB takes seconds of the origin's CPU, which
   * would otherwise count against the client's timeout). Bodies are cached per kind and size.
   */
  prepare(kind: 'gzip' | 'gzip-gzip' | 'deflate' | 'br', size?: number): Promise<void>;
  /** Resolves with the next connection on which a request head arrives. */
  nextRequest(): Promise<HostileConnection>;
  /** Connections not closed yet. */
  open(): number;
  close(): Promise<void>;
}

const MIB = 1024 * 1024;
const ZEROS = Buffer.alloc(64 * 1024);
const DEFAULT_BOMB = 256 * MIB;

/** One gzip member of 1 MiB of zeros (about 1 KiB); members concatenate into a valid gzip stream. */
let gzipMember: Buffer | undefined;
const bodies = new Map<string, Promise<Buffer>>();

function gzipBomb(size: number): Buffer {
  gzipMember ??= gzipSync(Buffer.alloc(MIB), { level: 9 });
  const members = Math.max(1, Math.ceil(size / MIB));
  return Buffer.concat(Array.from({ length: members }, () => gzipMember as Buffer));
}

/** `size` zeros through a compressor, without ever holding them. */
async function compressZeros(c: Transform, size: number): Promise<Buffer> {
  const out: Buffer[] = [];
  c.on('data', (b: Buffer) => out.push(b));
  for (let left = size; left > 0; left -= ZEROS.length) {
    if (!c.write(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left))) await once(c, 'drain');
  }
  c.end();
  await once(c, 'end');
  return Buffer.concat(out);
}

function bombBody(kind: 'gzip' | 'gzip-gzip' | 'deflate' | 'br', size: number): Promise<Buffer> {
  const key = `${kind}:${size}`;
  let body = bodies.get(key);
  if (!body) {
    if (kind === 'gzip') body = Promise.resolve(gzipBomb(size));
    else if (kind === 'gzip-gzip') body = Promise.resolve(gzipSync(gzipBomb(size), { level: 9 }));
    else if (kind === 'deflate') body = compressZeros(createDeflate({ level: 9 }), size);
    // Quality 1 is 100 times faster than 5 on zeros and still about 5000:1.
    else body = compressZeros(createBrotliCompress({ params: { [zc.BROTLI_PARAM_QUALITY]: 1 } }), size);
    bodies.set(key, body);
  }
  return body;
}

const KINDS: ReadonlySet<string> = new Set<HostileKind>([
  'silent', 'drip-headers', 'drip', 'gzip', 'gzip-gzip', 'deflate', 'br', 'longer', 'shorter',
  'chunked-cut', 'chunked-stall', 'huge-length', 'endless', 'redirect', 'redirect-drip', 'image', 'close', 'reset',
]);

/** Resolves when the socket can take more, or is gone; leaves no listener behind. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

function head(status: string, headers: Record<string, string | number>): string {
  return `HTTP/1.1 ${status}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** A minimal valid PNG (1×1), the default image of the behaviours that send one. */
const TINY_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154089963f8cfc0f01f00050001ffabce36890000000049454e44ae426082',
  'hex',
);

/**
 * Starts the origin. `image` is what the behaviours that send an image send (default: a 1×1
 * PNG); give a larger one where a half of it must still be a non-trivial prefix.
 */
export async function startHostileOrigin(opts: { image?: Buffer } = {}): Promise<HostileOrigin> {
  const image = opts.image ?? TINY_PNG;
  const connections: HostileConnection[] = [];
  const sockets = new Set<Socket>();
  const waiters: ((c: HostileConnection) => void)[] = [];
  const timers = new Set<NodeJS.Timeout>();

  function every(ms: number, fn: () => boolean): void {
    const t = setInterval(() => {
      if (!fn()) {
        clearInterval(t);
        timers.delete(t);
      }
    }, ms);
    timers.add(t);
  }

  async function answer(socket: Socket, conn: HostileConnection, path: string, query: URLSearchParams): Promise<void> {
    // conn.kind was set from the first path segment when the request head arrived.
    const size = Number(query.get('size') ?? '') || undefined;
    const interval = Number(query.get('interval') ?? '') || 1000;
    const write = (data: string | Buffer): boolean => {
      if (socket.destroyed) return false;
      conn.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      return socket.write(data);
    };
    /** Writes zeros (raw or as chunks) until `total` bytes or the reader goes away, with backpressure. */
    const pour = async (total: number, chunked: boolean): Promise<void> => {
      for (let sent = 0; sent < total && !socket.destroyed; sent += ZEROS.length) {
        const ok = chunked ? write(Buffer.concat([Buffer.from(`${ZEROS.length.toString(16)}\r\n`), ZEROS, Buffer.from('\r\n')])) : write(ZEROS);
        if (!ok && !socket.destroyed) await drained(socket);
      }
    };
    switch (conn.kind) {
      case 'silent':
      case undefined:
        if (conn.kind === undefined) {
          write(head('404 Not Found', { 'Content-Length': 0, Connection: 'close' }));
          socket.end();
        }
        return;
      case 'drip-headers': {
        const text = head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': image.length, 'X-Padding': 'x'.repeat(1000) });
        let i = 0;
        every(interval, () => i < text.length && write(text[i++] ?? ''));
        return;
      }
      case 'drip': {
        write(head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': size ?? 1_000_000 }));
        let i = 0;
        every(interval, () => i++ < (size ?? 1_000_000) && write(Buffer.from([image[i % image.length] ?? 0])));
        return;
      }
      case 'gzip':
      case 'gzip-gzip':
      case 'deflate':
      case 'br': {
        const body = await bombBody(conn.kind, size ?? DEFAULT_BOMB);
        const encoding = conn.kind === 'gzip-gzip' ? 'gzip, gzip' : conn.kind;
        write(head('200 OK', { 'Content-Type': 'image/png', 'Content-Encoding': encoding, 'Content-Length': body.length, Connection: 'close' }));
        write(body);
        socket.end();
        return;
      }
      case 'longer': {
        // What a desync attack plants: if a client reused this connection, it would read `evil`
        // as the answer to its next request.
        const smuggled = head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': 4 }) + 'evil';
        write(head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': image.length, Connection: 'keep-alive' }));
        write(Buffer.concat([image, Buffer.from(smuggled)]));
        return;
      }
      case 'shorter':
        write(head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': image.length }));
        write(image.subarray(0, Math.floor(image.length / 2)));
        socket.end();
        return;
      case 'chunked-cut':
      case 'chunked-stall': {
        write(head('200 OK', { 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' }));
        const part = conn.kind === 'chunked-cut' ? image : image.subarray(0, Math.floor(image.length / 2));
        write(`${part.length.toString(16)}\r\n`);
        write(part);
        write('\r\n');
        if (conn.kind === 'chunked-cut') socket.end();
        return;
      }
      case 'huge-length':
        write(head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': '99999999999' }));
        await pour(10 * 1024 * MIB, false);
        return;
      case 'endless':
        write(head('200 OK', { 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' }));
        await pour(size ?? 10 * 1024 * MIB, true);
        if (!socket.destroyed) write('0\r\n\r\n');
        return;
      case 'redirect':
        write(head('302 Found', { Location: query.get('to') ?? `${path}?${query.toString()}`, 'Content-Length': 0 }));
        return;
      case 'redirect-drip':
        write(head('302 Found', { Location: query.get('to') ?? '/image', 'Transfer-Encoding': 'chunked' }));
        every(interval, () => write('1\r\nx\r\n'));
        return;
      case 'close': {
        const n = size ?? 4 * MIB;
        write(head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': n, Connection: 'close' }));
        await pour(n, false);
        socket.end();
        return;
      }
      case 'reset': {
        const n = size ?? 256 * 1024;
        write(head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': 2 * n, Connection: 'close' }));
        write(Buffer.alloc(n));
        setTimeout(() => socket.resetAndDestroy(), 50);
        return;
      }
      case 'image':
        write(head('200 OK', { 'Content-Type': 'image/png', 'Content-Length': image.length }));
        write(image);
        return;
    }
  }

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let resolveClosed: (t: number) => void = () => undefined;
    const closed = new Promise<number>((r) => (resolveClosed = r));
    const conn: HostileConnection = {
      path: '',
      kind: undefined,
      openedAt: Date.now(),
      closedAt: undefined,
      bytesOut: 0,
      closed,
      closedWithin: (ms) => {
        let timer: NodeJS.Timeout | undefined;
        return Promise.race([closed, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(timer));
      },
    };
    connections.push(conn);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      conn.closedAt = Date.now();
      resolveClosed(conn.closedAt);
    });
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      // Requests on one connection, one after the other (keep-alive), bodies ignored.
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const reqHead = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const target = /^[A-Z]+ (\S+) HTTP\/1\.[01]/.exec(reqHead)?.[1] ?? '/';
        const u = new URL(target, 'http://origin');
        conn.path = u.pathname;
        const kind = u.pathname.split('/')[1] ?? '';
        conn.kind = KINDS.has(kind) ? (kind as HostileKind) : undefined;
        waiters.shift()?.(conn);
        answer(socket, conn, u.pathname, u.searchParams).catch(() => socket.destroy());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    connections,
    at(kind, params = {}) {
      const q = new URLSearchParams();
      if (params.size !== undefined) q.set('size', String(params.size));
      if (params.interval !== undefined) q.set('interval', String(params.interval));
      if (params.to !== undefined) q.set('to', params.to);
      const qs = q.toString();
      return `${url}/${kind}${qs ? `?${qs}` : ''}`;
    },
    prepare: async (kind, size) => {
      await bombBody(kind, size ?? DEFAULT_BOMB);
    },
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    open: () => connections.filter((c) => c.closedAt === undefined).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface Cancelled {
  /** What the fetch rejected with (undefined if it resolved). */
  error: unknown;
  /** Milliseconds from the abort to the rejection. */
  answeredMs: number;
  /** Milliseconds from the abort to the origin seeing its connection close; undefined if not within 2 s. */
  closedMs: number | undefined;
}

/**
 * Cancels a fetch in flight: waits for its request to reach the origin (`request`, from
 * nextRequest()) and `afterMs` more, aborts `ac`, and measures how fast the fetch gave up and
 * the origin's connection closed.
 */
export async function cancelInFlight(request: Promise<HostileConnection>, ac: AbortController, fetching: Promise<unknown>, afterMs: number): Promise<Cancelled> {
  const outcome = fetching.then(() => undefined, (err: unknown) => err);
  const conn = await request;
  await new Promise((r) => setTimeout(r, afterMs));
  const abortedAt = Date.now();
  ac.abort();
  const error = await outcome;
  const answeredMs = Date.now() - abortedAt;
  const closedAt = await conn.closedWithin(2000);
  return { error, answeredMs, closedMs: closedAt === undefined ? undefined : closedAt - abortedAt };
}
