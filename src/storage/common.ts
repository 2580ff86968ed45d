/**
 * Helpers shared by the object-store backends (s3, gcs, abs, swift): how our metadata is
 * stored as user metadata (the entry's own key included, checked by keyed stores), key
 * prefixes, validators and conditional reads, and how a backend failure becomes a ProxyError.
 *
 * User-metadata names are restricted differently by each store: S3 lower-cases them, Azure
 * wants C# identifiers (no `-`), Swift title-cases them and turns `_` into `-`. So every
 * name we write is lower-case `[a-z0-9]` only, and `extra` keys are hex-encoded into it;
 * values are percent-encoded so they stay ASCII header text everywhere.
 */
import { Readable } from 'node:stream';
import { ProxyError } from '../errors.js';
import { assertOwnEntry } from './entry-key.js';
import type { BlobMeta, GetOptions, GetResult, OpenOptions, PutMeta } from './types.js';

const CREATED = 'ppcreated';
const EXPIRES = 'ppexpires';
const ETAG = 'ppetag';
const LAST_MODIFIED = 'pplastmod';
const EXTRA = 'ppx';
/** The key the object was put under (without the store's prefix): see ./entry-key.ts. */
const KEY = 'ppkey';

/**
 * The store refused a conditional create as such (Swift's s3api answers 501 "Conditional
 * object PUTs are not supported"): an answer, not a failure of the backend, so it opens no
 * circuit; the caller stops asking (the lease then coordinates nothing, ../cache/lease.ts).
 */
export class ConditionalWriteUnsupportedError extends Error {
  constructor(store: string, detail: string) {
    super(`${store}: conditional writes are not supported by this server (${detail})`);
    this.name = 'ConditionalWriteUnsupportedError';
  }
}

/** Our metadata as user-metadata pairs (names lower-case alphanumerics, values ASCII). */
export function encodeUserMeta(key: string, meta: PutMeta, createdAt: number): Record<string, string> {
  const out: Record<string, string> = { [KEY]: encodeValue(key), [CREATED]: String(createdAt) };
  if (meta.expiresAt !== undefined) out[EXPIRES] = String(Math.trunc(meta.expiresAt));
  if (meta.etag !== undefined) out[ETAG] = encodeValue(meta.etag);
  if (meta.lastModified !== undefined) out[LAST_MODIFIED] = encodeValue(meta.lastModified);
  for (const [k, v] of Object.entries(meta.extra ?? {})) out[EXTRA + Buffer.from(k, 'utf8').toString('hex')] = encodeValue(v);
  return out;
}

export interface DecodedUserMeta {
  key?: string;
  createdAt?: number;
  expiresAt?: number;
  etag?: string;
  lastModified?: string;
  extra?: Record<string, string>;
}

/**
 * Azure (and some S3-compatibles) drop user metadata with an empty value, so '' is stored
 * as a lone `%`, which percent-encoding never produces.
 */
function encodeValue(v: string): string {
  return v === '' ? '%' : encodeURIComponent(v);
}

function decode(v: string): string {
  if (v === '%') return '';
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Reads back what encodeUserMeta wrote; names are compared case-insensitively. */
function decodeUserMeta(raw: Readonly<Record<string, string | undefined>> | undefined): DecodedUserMeta {
  const out: DecodedUserMeta = {};
  const extra: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw ?? {})) {
    if (value === undefined) continue;
    const k = name.toLowerCase();
    if (k === KEY) out.key = decode(value);
    else if (k === CREATED) {
      const n = num(value);
      if (n !== undefined) out.createdAt = n;
    } else if (k === EXPIRES) {
      const n = num(value);
      if (n !== undefined) out.expiresAt = n;
    } else if (k === ETAG) out.etag = decode(value);
    else if (k === LAST_MODIFIED) out.lastModified = decode(value);
    else if (k.startsWith(EXTRA) && /^[0-9a-f]*$/.test(k.slice(EXTRA.length)) && k.length % 2 === 1) {
      extra[Buffer.from(k.slice(EXTRA.length), 'hex').toString('utf8')] = decode(value);
    }
  }
  if (Object.keys(extra).length > 0) out.extra = extra;
  return out;
}

/** What a backend knows natively about an object, merged with our stored metadata. */
export interface NativeMeta {
  size: number;
  contentType?: string | undefined;
  etag?: string | undefined;
  lastModified?: Date | string | undefined;
  cacheControl?: string | undefined;
  httpExpires?: Date | string | undefined;
  contentEncoding?: string | undefined;
  user?: Readonly<Record<string, string | undefined>> | undefined;
}

function httpDate(d: Date | string | undefined): string | undefined {
  if (d === undefined || d === '') return undefined;
  if (typeof d === 'string') return d;
  return Number.isNaN(d.getTime()) ? undefined : d.toUTCString();
}

/**
 * Builds BlobMeta: the stored original validators (etag/lastModified we were given at put)
 * win over the backend's own, so a cached copy revalidates against its origin's values.
 */
export function toBlobMeta(n: NativeMeta): BlobMeta {
  const u = decodeUserMeta(n.user);
  const nativeLastModified = httpDate(n.lastModified);
  const lastModified = u.lastModified ?? nativeLastModified;
  const nativeMs = nativeLastModified ? Date.parse(nativeLastModified) : NaN;
  const meta: BlobMeta = { size: n.size, createdAt: u.createdAt ?? (Number.isNaN(nativeMs) ? 0 : nativeMs) };
  if (n.contentType) meta.contentType = n.contentType;
  if (u.expiresAt !== undefined) meta.expiresAt = u.expiresAt;
  const etag = u.etag ?? (n.etag ? quoteEtag(n.etag) : undefined);
  if (etag) meta.etag = etag;
  if (lastModified) meta.lastModified = lastModified;
  if (u.extra) meta.extra = u.extra;
  if (u.key !== undefined) meta.key = u.key;
  if (n.cacheControl) meta.cacheControl = n.cacheControl;
  const httpExpires = httpDate(n.httpExpires);
  if (httpExpires) meta.httpExpires = httpExpires;
  if (n.contentEncoding) meta.contentEncoding = n.contentEncoding;
  return meta;
}

/** A client-supplied HTTP date, or undefined when it does not parse (then it is ignored, as RFC 9110 says). */
export function parseHttpDate(v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

export function isExpired(meta: BlobMeta, now = Date.now()): boolean {
  return meta.expiresAt !== undefined && meta.expiresAt < now;
}

/** ETags on the wire are quoted; GCS and Swift hand them out bare. */
function quoteEtag(etag: string): string {
  return /^(W\/)?".*"$/.test(etag) ? etag : `"${etag}"`;
}

function opaque(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/**
 * RFC 9110 §13.1.2/§13.1.3 for a GET: If-None-Match (weak comparison) decides when present,
 * otherwise If-Modified-Since against Last-Modified. Evaluated here as well as by the store,
 * because our stored validators are not the store's own and some emulators ignore them.
 */
export function notModified(meta: BlobMeta, opts: Pick<GetOptions, 'ifNoneMatch' | 'ifModifiedSince'>): boolean {
  if (opts.ifNoneMatch !== undefined && opts.ifNoneMatch.trim() !== '') {
    if (!meta.etag) return false;
    const mine = opaque(meta.etag);
    return opts.ifNoneMatch.split(',').some((t) => t.trim() === '*' || opaque(t) === mine);
  }
  if (opts.ifModifiedSince !== undefined && meta.lastModified) {
    const since = Date.parse(opts.ifModifiedSince);
    const lm = Date.parse(meta.lastModified);
    if (Number.isNaN(since) || Number.isNaN(lm)) return false;
    // HTTP dates have whole seconds; compare at that resolution.
    return Math.floor(lm / 1000) <= Math.floor(since / 1000);
  }
  return false;
}

/** `prefix` of open(): a path segment, so `a` and `a/` both mean `a/…`. */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return p === '' ? '' : `${p}/`;
}

/** What one open(bucket, prefix) of a backend needs to name its objects, answer and fail. */
export interface OpenedStore {
  /** `backend:bucket/prefix/`, the BlobStore's name. */
  name: string;
  /** Normalised key prefix (`a/` or empty). */
  pre: string;
  /** `bucket/prefix/key`, as error messages name an object. */
  target(key: string): string;
  /** Throws the backend failure as a ProxyError (see storageError). */
  fail(op: string, key: string, err: unknown): never;
  /** A HEAD's answer once the object's metadata is known: expired → null; foreign → ForeignEntryError (keyed stores). */
  found(key: string, meta: BlobMeta): BlobMeta | null;
  /**
   * A GET's answer once the object's metadata is known: foreign → ForeignEntryError (keyed
   * stores), expired → a miss, the caller's validators match → not modified, else the body.
   * `body` is either already open (it is destroyed when not returned) or opened only when it
   * is returned.
   */
  result(key: string, meta: BlobMeta, o: Pick<GetOptions, 'ifNoneMatch' | 'ifModifiedSince'>, body: Readable | (() => Readable)): GetResult;
}

export function openStore(backend: string, bucket: string, prefix: string | undefined, statusOf: (err: unknown) => number | undefined, opts: OpenOptions = {}): OpenedStore {
  const pre = normalizePrefix(prefix);
  const target = (key: string): string => `${bucket}/${pre}${key}`;
  const name = `${backend}:${bucket}/${pre}`;
  // A foreign object is left where it is: no store here offers a portable delete-if-unchanged,
  // and an unconditional delete could remove the right entry another instance has just written
  // under this key. The miss makes the cache write this key again, which replaces it.
  const own = (key: string, meta: BlobMeta): void => {
    if (opts.keyed) assertOwnEntry(name, key, meta);
  };
  return {
    name,
    pre,
    target,
    fail: (op, key, err) => {
      throw storageError(backend, op, target(key), err, statusOf(err));
    },
    found(key, meta) {
      own(key, meta);
      return isExpired(meta) ? null : meta;
    },
    result(key, meta, o, body) {
      try {
        own(key, meta);
      } catch (err) {
        if (typeof body !== 'function') body.destroy();
        throw err;
      }
      const expired = isExpired(meta);
      if (expired || notModified(meta, o)) {
        if (typeof body !== 'function') body.destroy();
        return expired ? null : { notModified: true, meta };
      }
      return { meta, body: typeof body === 'function' ? body() : body };
    },
  };
}

/**
 * The store answered 304 to a conditional GET, which carries no metadata: it comes from a
 * HEAD, and an object gone (or expired) in between is a miss.
 */
export async function revalidated(head: () => Promise<BlobMeta | null>): Promise<GetResult> {
  const meta = await head();
  return meta ? { notModified: true, meta } : null;
}

export function toReadable(body: unknown, what: string): Readable {
  if (body instanceof Readable) return body;
  if (body && typeof body === 'object' && Symbol.asyncIterator in body) return Readable.from(body as AsyncIterable<Uint8Array>);
  throw new ProxyError('INTERNAL', `${what}: response has no readable body`);
}

/** Network failures have no HTTP status; these codes say the backend could not be reached. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'ECONNABORTED']);

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Maps a backend failure to a ProxyError. `status` is the HTTP status the store answered,
 * when there was an answer. 401/403 say our credentials or permissions are wrong (mirrored,
 * as imgproxy mirrors origin 4xx), 5xx is a bad gateway, no answer at all is unreachable.
 */
export function storageError(backend: string, op: string, target: string, err: unknown, status?: number): ProxyError {
  if (err instanceof ProxyError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  const where = `${backend} ${op} ${target}`;
  if (name === 'AbortError' || name === 'TimeoutError') {
    return name === 'TimeoutError'
      ? new ProxyError('SOURCE_TIMEOUT', `${where}: timed out`, { cause: err })
      : new ProxyError('CANCELLED', `${where}: aborted`, { cause: err });
  }
  if (status === 401 || status === 403) {
    return new ProxyError('SOURCE_CLIENT_ERROR', `${where}: credentials rejected or access denied (HTTP ${status}${name ? ` ${name}` : ''}): ${msg}`, { status, cause: err });
  }
  if (status === 404) return new ProxyError('SOURCE_CLIENT_ERROR', `${where}: not found: ${msg}`, { status: 404, cause: err });
  if (status !== undefined && status >= 400 && status < 500) {
    return new ProxyError('SOURCE_CLIENT_ERROR', `${where}: HTTP ${status}: ${msg}`, { status, cause: err });
  }
  if (status !== undefined && status >= 500) return new ProxyError('SOURCE_BAD_GATEWAY', `${where}: HTTP ${status}: ${msg}`, { cause: err });
  const code = errorCode(err);
  if (code?.includes('TIMEOUT') || code === 'ETIMEDOUT') return new ProxyError('SOURCE_TIMEOUT', `${where}: timed out (${code})`, { cause: err });
  return new ProxyError('SOURCE_UNREACHABLE', `${where}: ${code ? `${code}: ` : ''}${msg}`, { cause: err });
}
