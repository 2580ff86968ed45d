/**
 * Stream helpers shared by the sources' `stream()` (raw pass-through): a guard that caps the
 * bytes and checks the announced length while the body flows, and a buffered body as a stream.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import { ProxyError } from '../errors.js';
import type { SourceResponse, SourceStream } from './types.js';

export interface GuardOptions {
  /** Bytes; 0 = unlimited. Past it the stream errors with SOURCE_TOO_BIG. */
  maxBytes: number;
  /** Bytes announced up front; ending short of them is an error (never a silently short body). */
  expected?: number | undefined;
  url: string;
  /** Maps an upstream error (socket reset, timeout, abort) to the ProxyError to surface. */
  mapError(err: Error, bytes: number): Error;
}

/**
 * `src` piped through a byte counter. Destroying the returned stream destroys `src` (the
 * pipeline tears down every stage), which is how a consumer that goes away releases the
 * upstream connection or file handle.
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
      cb(null, chunk);
    },
    flush(cb) {
      if (o.expected !== undefined && total < o.expected) cb(new ProxyError('SOURCE_BODY_INCOMPLETE', `source body truncated: ${total} of ${o.expected} bytes: ${o.url}`));
      else cb();
    },
    destroy(err, cb) {
      cb(err === null || err instanceof ProxyError ? err : o.mapError(err, total));
    },
  });
  pipeline(src, counter, () => undefined);
  return counter;
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
