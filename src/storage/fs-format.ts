/**
 * On-disk format of one fs cache entry: a small self-describing header, then the body.
 *
 *   magic "PXC\0" (4) | format version u16 | reserved u16 | meta JSON length u32 |
 *   meta JSON | body length u64 | sha256(body) (32) | body
 *
 * The declared lengths must add up to the file size and the checksum must match: a short,
 * torn or bit-flipped file is detected before anything is served from it.
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

export function encodeEntry(body: Buffer, meta: BlobMeta): Buffer[] {
  const metaJson = Buffer.from(JSON.stringify(meta), 'utf8');
  const head = Buffer.alloc(FIXED_HEAD);
  MAGIC.copy(head, 0);
  head.writeUInt16BE(FORMAT_VERSION, 4);
  head.writeUInt32BE(metaJson.length, 8);
  const bodyHead = Buffer.alloc(BODY_HEAD);
  bodyHead.writeBigUInt64BE(BigInt(body.length), 0);
  createHash('sha256').update(body).digest().copy(bodyHead, 8);
  return [head, metaJson, bodyHead, body];
}

/** Parses the header; `total` is the file size, checked against the declared lengths. */
export function parseHeader(buf: Buffer, total: number): { meta: BlobMeta; bodyOffset: number; digest: Buffer } {
  if (total < FIXED_HEAD + BODY_HEAD || buf.length < FIXED_HEAD) throw new DamagedEntryError('short file');
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new DamagedEntryError('bad magic');
  const version = buf.readUInt16BE(4);
  if (version !== FORMAT_VERSION) throw new DamagedEntryError(`unknown format version ${version}`);
  const metaLen = buf.readUInt32BE(8);
  if (metaLen > MAX_META_BYTES) throw new DamagedEntryError('meta too large');
  const bodyHeadAt = FIXED_HEAD + metaLen;
  if (buf.length < bodyHeadAt + BODY_HEAD) throw new DamagedEntryError('short header');
  let meta: BlobMeta;
  try {
    meta = JSON.parse(buf.subarray(FIXED_HEAD, bodyHeadAt).toString('utf8')) as BlobMeta;
  } catch {
    throw new DamagedEntryError('unparsable meta');
  }
  if (typeof meta !== 'object' || meta === null || typeof meta.size !== 'number') throw new DamagedEntryError('invalid meta');
  const bodyLen = Number(buf.readBigUInt64BE(bodyHeadAt));
  const bodyOffset = bodyHeadAt + BODY_HEAD;
  if (bodyLen !== meta.size || bodyOffset + bodyLen !== total) throw new DamagedEntryError('length mismatch');
  return { meta, bodyOffset, digest: buf.subarray(bodyHeadAt + 8, bodyHeadAt + BODY_HEAD) };
}


export function bodyDigest(body: Buffer): Buffer {
  return createHash('sha256').update(body).digest();
}
