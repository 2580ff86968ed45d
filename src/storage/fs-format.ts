/**
 * On-disk format of one fs cache entry: a small self-describing header, then the body.
 *
 *   magic "PXC\0" (4) | format version u16 | reserved u16 | meta JSON length u32 |
 *   meta JSON | body length u64 | sha256(body) (32) | body
 *
 * The declared lengths must add up to the file size and the checksum must match: a short,
 * torn or bit-flipped file is detected before anything is served from it.
 *
 * The meta JSON is the entry's BlobMeta. Version 2 requires its `key`: the key the entry was
 * put under, which a read compares with the key asked (./entry-key.ts), so a valid file under
 * another entry's name is never served as that entry. Version 1 recorded the key (as `"@key"`)
 * only for files named by a hash of their key; a version-1 file named by its own key records
 * none, and reads as foreign.
 */
import { bodyDigest } from '../body-digest.js';
import type { BlobMeta } from './types.js';

export const MAGIC = Buffer.from('PXC\0', 'latin1');
const FORMAT_VERSION = 2;
/** Still read: its hash-named entries record their key; the others record none (foreign). */
const FORMAT_V1 = 1;
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

/** Version-1 meta JSON property holding the key of a hash-named entry. */
const V1_KEY_FIELD = '@key';

export interface ParsedHeader {
  /** `meta.key` is the recorded key (undefined only in a version-1 file named by its own key). */
  meta: BlobMeta;
  bodyOffset: number;
  digest: Buffer;
}

/** `meta.key` is required; `digest` is sha256(body) when the caller already has it (it is not recomputed). */
export function encodeEntry(body: Buffer, meta: BlobMeta & { key: string }, digest?: Buffer): Buffer[] {
  const metaJson = Buffer.from(JSON.stringify(meta), 'utf8');
  const head = Buffer.alloc(FIXED_HEAD);
  MAGIC.copy(head, 0);
  head.writeUInt16BE(FORMAT_VERSION, 4);
  head.writeUInt32BE(metaJson.length, 8);
  const bodyHead = Buffer.alloc(BODY_HEAD);
  bodyHead.writeBigUInt64BE(BigInt(body.length), 0);
  (digest ?? bodyDigest(body)).copy(bodyHead, 8);
  return [head, metaJson, bodyHead, body];
}

/** Parses the header; `total` is the file size, checked against the declared lengths. */
export function parseHeader(buf: Buffer, total: number): ParsedHeader {
  if (total < FIXED_HEAD + BODY_HEAD || buf.length < FIXED_HEAD) throw new DamagedEntryError('short file');
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new DamagedEntryError('bad magic');
  const version = buf.readUInt16BE(4);
  if (version !== FORMAT_VERSION && version !== FORMAT_V1) throw new DamagedEntryError(`unknown format version ${version}`);
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
  if (version === FORMAT_V1) meta = fromV1(parsed as Record<string, unknown>);
  else if (typeof meta.key !== 'string') throw new DamagedEntryError('no key');
  const bodyLen = Number(buf.readBigUInt64BE(bodyHeadAt));
  const bodyOffset = bodyHeadAt + BODY_HEAD;
  if (bodyLen !== meta.size || bodyOffset + bodyLen !== total) throw new DamagedEntryError('length mismatch');
  return { meta, bodyOffset, digest: buf.subarray(bodyHeadAt + 8, bodyHeadAt + BODY_HEAD) };
}

function fromV1(parsed: Record<string, unknown>): BlobMeta {
  const { [V1_KEY_FIELD]: stored, key: _ignored, ...rest } = parsed;
  if (stored !== undefined && typeof stored !== 'string') throw new DamagedEntryError('invalid key');
  return { ...(rest as unknown as BlobMeta), ...(stored !== undefined ? { key: stored } : {}) };
}
