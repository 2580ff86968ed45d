/**
 * The local:// source: `local:///path/to/file` read from under IMGPROXY_LOCAL_FILESYSTEM_ROOT.
 *
 * Containment, in three layers (ipx's CVE-2025-54387 was a prefix check that let
 * `/root-evil` pass for `/root`):
 *  1. lexical: the percent-decoded path joined to the root must stay inside it (`..`,
 *     `%2e%2e`, encoded slashes), compared with path.relative, never a string prefix;
 *  2. symlinks: the realpath of the file must stay inside the realpath of the root;
 *  3. we open that realpath with O_NOFOLLOW and take size and mtime from the open handle,
 *     so what we stat is what we read. A directory component swapped for a symlink between
 *     the realpath and the open remains a (narrow) TOCTOU window; only openat2's
 *     RESOLVE_BENEATH would close it, which Node does not expose.
 *
 * Validators as imgproxy's fs transport: ETag = base64url(sha256(path, size, mtime)),
 * Last-Modified from mtime; If-None-Match / If-Modified-Since answer 304. A single byte
 * `range` (raw pass-through) reads only that part and answers 206. `stream` does the same
 * checks and streams the bytes from the handle it checked.
 */
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import { MIME_TYPES } from '../formats.js';
import { ifNoneMatchHits } from '../validators.js';
import { detectImageFormat, SVG_SCAN_LIMIT } from './detect.js';
import { contentRange, parseRange, type ByteRange } from './range.js';
import { addAbortSignal, type Readable } from 'node:stream';
import { bufferStream, collect, guarded } from './stream.js';
import type { FetchOptions, Source, SourceResponse, SourceStream } from './types.js';

const PREFIX = 'local://';
/** Read size of a buffered fetch: few syscalls for a large image, little past the end of a small one. */
const READ_CHUNK = 1024 * 1024;

function notFound(detail: string): ProxyError {
  return new ProxyError('SOURCE_CLIENT_ERROR', detail, { status: 404 });
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/** The file path a `local:///…` URL names, decoded; throws INVALID_SOURCE_URL on anything odd. */
export function localPathOf(url: string): string {
  if (!url.toLowerCase().startsWith(PREFIX)) throw new ProxyError('INVALID_SOURCE_URL', `not a local:// URL: ${url}`);
  let rest = url.slice(PREFIX.length);
  // Query and fragment are not part of a file name: a literal `?` or `#` in one arrives as %3F / %23.
  const cut = rest.search(/[?#]/);
  if (cut !== -1) rest = rest.slice(0, cut);
  if (!rest.startsWith('/')) {
    // `local://host/x`: a host has no meaning here, and guessing one is how paths get confused.
    throw new ProxyError('INVALID_SOURCE_URL', `local:// URL must have an empty host (local:///path): ${url}`);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    throw new ProxyError('INVALID_SOURCE_URL', `bad percent-encoding in ${url}`);
  }
  if (decoded.includes('\0')) throw new ProxyError('INVALID_SOURCE_URL', `NUL byte in ${url}`);
  return decoded;
}

async function sniffHead(handle: FileHandle, size: number): Promise<string | undefined> {
  const head = Buffer.alloc(Math.min(size, SVG_SCAN_LIMIT));
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  const format = detectImageFormat(head.subarray(0, bytesRead));
  return format === null ? undefined : MIME_TYPES[format];
}

function makeEtag(filePath: string, size: number, mtimeMs: number): string {
  const h = createHash('sha256').update(filePath).update('\0').update(String(size)).update('\0').update(String(mtimeMs));
  return `"${h.digest('base64url')}"`;
}

/**
 * Boot-time check of IMGPROXY_LOCAL_FILESYSTEM_ROOT, as imgproxy does: it must exist and be a
 * directory (ConfigError otherwise). Returns a warning to log when it is `/`, which exposes
 * the whole filesystem to anyone who can sign a URL.
 */
export async function checkLocalFilesystemRoot(config: Config): Promise<string | undefined> {
  const raw = config.download.localFilesystemRoot;
  if (raw === '') return undefined;
  const root = path.resolve(raw);
  let isDir: boolean;
  try {
    isDir = (await stat(root)).isDirectory();
  } catch (err) {
    throw new ConfigError(`IMGPROXY_LOCAL_FILESYSTEM_ROOT: ${root} is not accessible (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!isDir) throw new ConfigError(`IMGPROXY_LOCAL_FILESYSTEM_ROOT: expected a directory, got ${root}`);
  return (await realpath(root)) === path.parse(root).root ? 'IMGPROXY_LOCAL_FILESYSTEM_ROOT is the filesystem root: every readable file can be served' : undefined;
}

export function createLocalSource(config: Config): Source {
  const root = path.resolve(config.download.localFilesystemRoot);
  let realRootCache: string | undefined;

  async function realRoot(refresh = false): Promise<string> {
    if (realRootCache === undefined || refresh) {
      try {
        realRootCache = await realpath(root);
      } catch (err) {
        throw new ProxyError('SOURCE_UNREACHABLE', `IMGPROXY_LOCAL_FILESYSTEM_ROOT ${root} is not accessible: ${(err as Error).message}`, { cause: err });
      }
    }
    return realRootCache;
  }

  async function resolveInside(url: string): Promise<string> {
    const rel = localPathOf(url);
    const lexical = path.resolve(root, `.${path.sep}${rel}`);
    if (!isInside(root, lexical)) throw new ProxyError('SOURCE_PATH_FORBIDDEN', `path escapes IMGPROXY_LOCAL_FILESYSTEM_ROOT: ${url}`);
    let real: string;
    try {
      real = await realpath(lexical);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new ProxyError('SOURCE_CLIENT_ERROR', `permission denied: ${url}`, { status: 403, cause: err });
      throw notFound(`file not found: ${url}`);
    }
    // The root itself may be a symlink repointed by an atomic deploy: re-resolve once before refusing.
    if (!isInside(await realRoot(), real) && !isInside(await realRoot(true), real)) {
      throw new ProxyError('SOURCE_PATH_FORBIDDEN', `symlink escapes IMGPROXY_LOCAL_FILESYSTEM_ROOT: ${url}`);
    }
    return real;
  }

  function mapError(err: unknown, url: string): ProxyError {
    if (err instanceof ProxyError) return err;
    if (err instanceof Error && err.name === 'AbortError') return new ProxyError('CANCELLED', `local read cancelled: ${url}`, { cause: err });
    // EISDIR and friends on read: the path does not name a readable image file.
    return notFound(`cannot read ${url}: ${(err as Error).message}`);
  }

  interface Prepared {
    handle: FileHandle;
    size: number;
    base: Omit<SourceResponse, 'status' | 'body'> & { acceptRanges: string };
    /** A conditional matched: answer 304. */
    notModified: boolean;
    /** The single range to serve, or null for the whole file (or for a 304). */
    range: ByteRange | null;
    unsatisfiable(): ProxyError;
  }

  /** Path checks, open, validators, conditionals, size limit and range; the caller closes the handle. */
  async function prepare(url: string, fo: FetchOptions): Promise<Prepared> {
    if (fo.signal?.aborted) throw new ProxyError('CANCELLED', `local read cancelled: ${url}`);
    const real = await resolveInside(url);
    let handle;
    try {
      handle = await open(real, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new ProxyError('SOURCE_CLIENT_ERROR', `permission denied: ${url}`, { status: 403, cause: err });
      throw notFound(`file not readable: ${url}`);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new ProxyError('SOURCE_NOT_A_FILE', `not a regular file: ${url}`);
      // Keyed on the physical path below the root, so aliases of one file share a validator.
      const etag = makeEtag(path.relative(await realRoot(), real), st.size, st.mtimeMs);
      const lastModified = st.mtime.toUTCString();
      const headers: Record<string, string> = { etag, 'last-modified': lastModified };
      const base = { etag, lastModified, headers, acceptRanges: 'bytes' };
      const unsatisfiable = (): ProxyError => new ProxyError('SOURCE_CLIENT_ERROR', `range ${fo.range ?? ''} not satisfiable for ${st.size} bytes: ${url}`, { status: 416 });
      const prepared = { handle, size: st.size, base, unsatisfiable };

      // RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since only when it is absent.
      if (fo.ifNoneMatch !== undefined) {
        if (ifNoneMatchHits(fo.ifNoneMatch, etag)) return { ...prepared, notModified: true, range: null };
      } else if (fo.ifModifiedSince !== undefined) {
        const since = Date.parse(fo.ifModifiedSince);
        // HTTP dates have second precision: compare the mtime truncated to seconds.
        if (!Number.isNaN(since) && Math.floor(st.mtimeMs / 1000) * 1000 <= since) return { ...prepared, notModified: true, range: null };
      }

      if (fo.maxBytes > 0 && st.size > fo.maxBytes) throw new ProxyError('SOURCE_TOO_BIG', `file is ${st.size} bytes, over ${fo.maxBytes}: ${url}`);
      // Conditionals first (RFC 9110 §13.2.2), then the range.
      const range = parseRange(fo.range, st.size);
      if (range === 'unsatisfiable') throw unsatisfiable();
      return { ...prepared, notModified: false, range };
    } catch (err) {
      await handle.close();
      throw mapError(err, url);
    }
  }

  async function fetchFile(url: string, fo: FetchOptions): Promise<SourceResponse> {
    const p = await prepare(url, fo);
    const { handle, base, range } = p;
    try {
      if (p.notModified) return { status: 304, body: Buffer.alloc(0), ...base };
      if (range !== null) {
        const part = Buffer.alloc(range.end - range.start + 1);
        const { bytesRead } = await handle.read(part, 0, part.length, range.start);
        // The file shrank since the stat.
        if (bytesRead === 0) throw p.unsatisfiable();
        const res: SourceResponse = { status: 206, body: part.subarray(0, bytesRead), contentRange: contentRange({ start: range.start, end: range.start + bytesRead - 1 }, p.size), ...base };
        // A file has no Content-Type of its own: a part from the middle gets the one its head sniffs as.
        const type = await sniffHead(handle, p.size);
        if (type !== undefined) res.contentType = type;
        return res;
      }
      // Exactly the bytes the stat announced, through the same guard as every source body: a
      // file that grows meanwhile is read no further, one that shrinks fails instead of ending
      // short, and the caller's signal stops the read between chunks.
      const body =
        p.size === 0
          ? Buffer.alloc(0)
          : await collect(handle.createReadStream({ start: 0, end: p.size - 1, autoClose: false, highWaterMark: READ_CHUNK }), {
              maxBytes: fo.maxBytes,
              expected: p.size,
              url,
              signal: fo.signal,
              mapError: (err) => mapError(err, url),
            });
      return { status: 200, body, ...base };
    } catch (err) {
      throw mapError(err, url);
    } finally {
      await handle.close();
    }
  }

  /**
   * The bytes the stat announced (the whole file or the range), streamed from the checked
   * handle, which the stream closes. A file that shrinks meanwhile makes the stream error
   * rather than end short.
   */
  async function streamFile(url: string, fo: FetchOptions): Promise<SourceStream> {
    const p = await prepare(url, fo);
    const { handle, base, range } = p;
    let handedOver = false;
    try {
      if (p.notModified) return { status: 304, body: bufferStream(Buffer.alloc(0)), contentLength: 0, ...base };
      const start = range?.start ?? 0;
      const end = range?.end ?? p.size - 1;
      const length = end - start + 1;
      const res: SourceStream = { status: range ? 206 : 200, body: bufferStream(Buffer.alloc(0)), contentLength: length, ...base };
      if (range) {
        res.contentRange = contentRange(range, p.size);
        const type = await sniffHead(handle, p.size);
        if (type !== undefined) res.contentType = type;
      }
      if (length > 0) {
        const file: Readable = handle.createReadStream({ start, end, autoClose: true });
        handedOver = true;
        if (fo.signal) addAbortSignal(fo.signal, file);
        res.body = guarded(file, { maxBytes: fo.maxBytes, expected: length, url, mapError: (err) => mapError(err, url) });
      }
      return res;
    } catch (err) {
      throw mapError(err, url);
    } finally {
      if (!handedOver) await handle.close();
    }
  }

  return {
    schemes: ['local'],
    fetch: fetchFile,
    stream: streamFile,
  };
}
