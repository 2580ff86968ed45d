/**
 * The byte guard every source body goes through, and the two ways a body leaves a source:
 * collected into one Buffer (`fetch`: images are decoded from memory) or as a stream (`stream`,
 * the raw pass-through). The guard counts the bytes as they flow (decoded bytes, when the body
 * had a Content-Encoding), fails the moment they pass the limit or the length announced, and
 * tears the upstream down with it, so an oversized or hostile body costs at most the limit.
 */
import { addAbortSignal, finished, Readable, Transform } from 'node:stream';
import { ProxyError } from '../errors.js';
import { growBuffer } from './grow-buffer.js';
import type { SourceResponse, SourceStream } from './types.js';

export interface GuardOptions {
  /** Bytes; 0 = unlimited. Past it the stream errors with SOURCE_TOO_BIG. */
  maxBytes: number;
  /** Bytes announced up front; ending short of them, or going past them, is an error (never a silently short body). */
  expected?: number | undefined;
  url: string;
  /** Maps an upstream error (socket reset, timeout, abort) to the ProxyError to surface. */
  mapError(err: Error, bytes: number): Error;
}

/**
 * `src` piped through a byte counter. Destroying the returned stream destroys `src`, which is
 * how a consumer that goes away releases the upstream connection or file handle. Failures of
 * `src` are mapped before they reach the counter: the counter's error, which is what an async
 * iterator or a pipeline over it reports, is always the mapped one (a stream keeps the first
 * error it is destroyed with, whatever its destroy hook passes on).
 */
export function guarded(src: Readable, o: GuardOptions): Readable {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (o.maxBytes > 0 && total > o.maxBytes) {
        cb(new ProxyError('SOURCE_TOO_BIG', `source body exceeds ${o.maxBytes} bytes: ${o.url}`));
        return;
      }
      if (o.expected !== undefined && total > o.expected) {
        cb(new ProxyError('UNSUPPORTED_IMAGE', `source body longer than the ${o.expected} bytes announced: ${o.url}`));
        return;
      }
      cb(null, chunk);
    },
    flush(cb) {
      if (o.expected !== undefined && total < o.expected) cb(new ProxyError('SOURCE_BODY_INCOMPLETE', `source body truncated: ${total} of ${o.expected} bytes: ${o.url}`));
      else cb();
    },
    destroy(err, cb) {
      if (!src.destroyed) src.destroy();
      cb(err);
    },
  });
  finished(src, { writable: false }, (err) => {
    if (err && !counter.destroyed) counter.destroy(err instanceof ProxyError ? err : o.mapError(err, total));
  });
  // The error stays on the stream for whoever reads it later; it must not be an uncaught
  // 'error' event in the meantime (a body may fail before its consumer attaches).
  counter.on('error', () => undefined);
  src.pipe(counter);
  return counter;
}

/**
 * What a failure after the headers becomes: a body that breaks off (connection reset, corrupt
 * compressed data) is a broken image, 422, as imgproxy reports a truncated body; a deadline,
 * a cancel or a size limit (already mapped by the source) stays what it is.
 */
export function bodyFailure(mapped: ProxyError, err: Error, bytes: number, url: string): ProxyError {
  if (mapped.code !== 'SOURCE_UNREACHABLE' && mapped.code !== 'SOURCE_CONNECTION') return mapped;
  // zlib and brotli say so in their codes (Z_DATA_ERROR, ERR__ERROR_FORMAT_…): the bytes
  // arrived but are not what their Content-Encoding claims, a broken image rather than a
  // broken connection (PreviewProxy's 502 upstream_connection_error is for the latter).
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (/^(?:Z_|ERR__ERROR_|ERR_BROTLI)/.test(code)) return new ProxyError('UNSUPPORTED_IMAGE', `source body is not valid for its Content-Encoding: ${url}: ${err.message}`, { cause: err });
  return new ProxyError('SOURCE_BODY_INCOMPLETE', `source body incomplete after ${bytes} bytes: ${url}: ${err.message}`, { cause: err });
}

export interface CollectOptions extends GuardOptions {
  /** Aborting it destroys the body (and so the upstream) and rejects with what mapError makes of the abort. */
  signal?: AbortSignal | undefined;
}

/**
 * The whole guarded body as one Buffer, in a GrowBuffer bounded by the announced length or
 * else the size limit (the guard fails before either is passed): a large body costs its size
 * once, without chunks plus their concatenation, and a failed one gives its memory back at
 * once rather than at the next garbage collection.
 */
export async function collect(src: Readable, o: CollectOptions): Promise<Buffer> {
  const body = guarded(src, o);
  if (o.signal) addAbortSignal(o.signal, body);
  const buf = growBuffer(o.expected ?? o.maxBytes);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) buf.append(chunk);
  } catch (err) {
    buf.release();
    throw err;
  }
  return buf.finish();
}

/** A buffer as a (non-object-mode) stream of at most one chunk. */
export function bufferStream(buf: Buffer): Readable {
  const r = new Readable({ read() {} });
  if (buf.length > 0) r.push(buf);
  r.push(null);
  return r;
}

/** A buffered SourceResponse as a SourceStream (sources without a `stream()` of their own). */
export function responseAsStream(res: SourceResponse): SourceStream {
  const { body, ...rest } = res;
  return { ...rest, body: bufferStream(body), contentLength: body.length };
}
