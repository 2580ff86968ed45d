/**
 * Undoes a source body's Content-Encoding (http origins, and object stores that keep one:
 * S3, Azure Blob). We never ask for a compressed body, but origins send one anyway, and
 * imgproxy decodes it too (fetcher/request.go, `wrapGzipBody`). Whatever limits the source's
 * size is applied to the stream returned here, so it counts decoded bytes: a 1 KB gzip bomb
 * is stopped at the limit however far it would inflate, and zlib's streams hold back while
 * their reader does (node's zlib stops decoding when its output buffer is full), so nothing
 * inflates ahead of the count.
 */
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ProxyError } from '../errors.js';

/**
 * Most codings undone on one body. curl caps its decoder chain at 5 for the same reason
 * (CVE-2022-32206, https://curl.se/docs/CVE-2022-32206.html): each layer costs a decoder's
 * window and state, and no real origin stacks more than two.
 */
export const MAX_CODINGS = 5;

type Decoder = () => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress;

/** RFC 9110 §8.4.1 codings (and the `x-gzip` spelling §8.4.1.3 says to accept). */
const DECODERS: Readonly<Record<string, Decoder>> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

export interface Decoded {
  body: Readable;
  /** True when at least one coding was undone: the Content-Length then says nothing of the length. */
  decoded: boolean;
}

/**
 * The body with its codings undone, last applied first (RFC 9110 §8.4: codings are listed in
 * the order they were applied). A list with a coding we do not know is passed through as is,
 * as imgproxy does with anything but `gzip`: the bytes then fail image detection (422) rather
 * than being guessed at. More than MAX_CODINGS layers is refused (and the body destroyed,
 * releasing its connection).
 */
export function decodeContentEncoding(body: Readable, header: string | undefined, where: string): Decoded {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0 || codings.some((c) => DECODERS[c] === undefined)) return { body, decoded: false };
  if (codings.length > MAX_CODINGS) {
    // undici's body errors when destroyed unread: that error is expected, not uncaught.
    body.on('error', () => undefined);
    body.destroy();
    throw new ProxyError('UNSUPPORTED_IMAGE', `source has ${codings.length} content codings (${header ?? ''}), more than ${MAX_CODINGS}: ${where}`);
  }
  const stages = codings.reverse().map((c) => (DECODERS[c] as Decoder)());
  // pipeline destroys every stage when any fails or when the last is destroyed by its reader.
  const last = stages[stages.length - 1] as Readable;
  pipeline([body, ...stages], () => undefined);
  return { body: last, decoded: true };
}
