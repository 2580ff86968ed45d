/**
 * On-disk format of one fs cache entry: a small self-describing header, then the body.
 *
 *   magic "PXC\0" (4) | format version u16 | reserved u16 | meta JSON length u32 |
 *   meta JSON | body length u64 | sha256(body) (32) | body
 *
 * The declared lengths must add up to the file size and the checksum must match: a short,
 * torn or bit-flipped file is detected before anything is served from it.
 *
 * The meta JSON is the entry's BlobMeta, plus `"@key"` (the original key) for entries whose
 * file is named by a hash of their key (fs.ts): `list()` reads it back from there. Entries
 * named by their own key (the cache's hex digests) don't carry it, so their bytes are the
 * same as before keys other than hex digests were accepted.
 */
import { createHash } from 'node:crypto';
import type { BlobMeta } from './types.js';

export const MAGIC = Buffer.from('PXC\0', 'latin1');
const FORMAT_VERSION = 1;
/** magic + version + reserved + meta length. */
export const FIXED_HEAD = 12;
/** body length + sha256. */
export const BODY_HEAD = 40;
export const MAX_META_BYTES = 1 << 20;

export class DamagedEntryError extends Error {
  constructor(detail: string) {
    super(`damaged cache entry: ${detail}`);
    this.name = 'DamagedEntryError';
  }
}

/** Meta JSON property holding the original key of a hash-named entry. */
const KEY_FIELD = '@key';

export interface ParsedHeader {
  meta: BlobMeta;
  /** The original key, stored only by hash-named entries. */
  key: string | undefined;
  bodyOffset: number;
  digest: Buffer;
}

/** `digest` is sha256(body) when the caller already has it (it is not recomputed). */
export function encodeEntry(body: Buffer, meta: BlobMeta, opts: { key?: string; digest?: Buffer } = {}): Buffer[] {
  const metaJson = Buffer.from(JSON.stringify(opts.key === undefined ? meta : { [KEY_FIELD]: opts.key, ...meta }), 'utf8');
  const head = Buffer.alloc(FIXED_HEAD);
  MAGIC.copy(head, 0);
  head.writeUInt16BE(FORMAT_VERSION, 4);
  head.writeUInt32BE(metaJson.length, 8);
  const bodyHead = Buffer.alloc(BODY_HEAD);
  bodyHead.writeBigUInt64BE(BigInt(body.length), 0);
  (opts.digest ?? bodyDigest(body)).copy(bodyHead, 8);
  return [head, metaJson, bodyHead, body];
}

/** Parses the header; `total` is the file size, checked against the declared lengths. */
export function parseHeader(buf: Buffer, total: number): ParsedHeader {
  if (total < FIXED_HEAD + BODY_HEAD || buf.length < FIXED_HEAD) throw new DamagedEntryError('short file');
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new DamagedEntryError('bad magic');
  const version = buf.readUInt16BE(4);
  if (version !== FORMAT_VERSION) throw new DamagedEntryError(`unknown format version ${version}`);
  const metaLen = buf.readUInt32BE(8);
  if (metaLen > MAX_META_BYTES) throw new DamagedEntryError('meta too large');
  const bodyHeadAt = FIXED_HEAD + metaLen;
  if (buf.length < bodyHeadAt + BODY_HEAD) throw new DamagedEntryError('short header');
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.subarray(FIXED_HEAD, bodyHeadAt).toString('utf8'));
  } catch {
    throw new DamagedEntryError('unparsable meta');
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as BlobMeta).size !== 'number') throw new DamagedEntryError('invalid meta');
  let meta = parsed as BlobMeta;
  let key: string | undefined;
  if (KEY_FIELD in parsed) {
    const { [KEY_FIELD]: stored, ...rest } = parsed as Record<string, unknown>;
    if (typeof stored !== 'string') throw new DamagedEntryError('invalid key');
    key = stored;
    meta = rest as unknown as BlobMeta;
  }
  const bodyLen = Number(buf.readBigUInt64BE(bodyHeadAt));
  const bodyOffset = bodyHeadAt + BODY_HEAD;
  if (bodyLen !== meta.size || bodyOffset + bodyLen !== total) throw new DamagedEntryError('length mismatch');
  return { meta, key, bodyOffset, digest: buf.subarray(bodyHeadAt + 8, bodyHeadAt + BODY_HEAD) };
}

export function bodyDigest(body: Buffer): Buffer {
  return createHash('sha256').update(body).digest();
}

/**
 * Bodies larger than this are hashed in slices of this size with a yield to the event loop
 * between two (~0.15 ms of sha256 each on the bench machine), so a multi-MB source never
 * blocks the loop for milliseconds (3.5 MB in one call: ~2 ms). WebCrypto's digest would run
 * in the thread pool, but on Node 20 it first copies its input on the calling thread, and for
 * 3.5 MB that copy alone (page faults on a fresh allocation) took as long as the hash.
 */
export const DIGEST_SLICE = 256 * 1024;

/** bodyDigest() in DIGEST_SLICE slices with a setImmediate between two when the body is large. */
export async function bodyDigestSliced(body: Buffer): Promise<Buffer> {
  if (body.length <= DIGEST_SLICE) return bodyDigest(body);
  const h = createHash('sha256');
  for (let off = 0; off < body.length; off += DIGEST_SLICE) {
    if (off > 0) await new Promise<void>((r) => setImmediate(r));
    h.update(body.subarray(off, off + DIGEST_SLICE));
  }
  return h.digest();
}
