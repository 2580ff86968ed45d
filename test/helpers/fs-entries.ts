/**
 * fs entry files as an older pixproxy wrote them (format version 1, before every entry
 * recorded its key: `"@key"` only in hash-named files), built byte by byte from the format
 * described in src/storage/fs-format.ts, for the tests of how such files are read.
 */
import { createHash } from 'node:crypto';

export function v1Entry(body: Buffer, meta: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify({ size: body.length, createdAt: 1_700_000_000_000, ...meta }));
  const head = Buffer.alloc(12);
  head.write('PXC\0', 0, 'latin1');
  head.writeUInt16BE(1, 4);
  head.writeUInt32BE(json.length, 8);
  const bodyHead = Buffer.alloc(40);
  bodyHead.writeBigUInt64BE(BigInt(body.length), 0);
  createHash('sha256').update(body).digest().copy(bodyHead, 8);
  return Buffer.concat([head, json, bodyHead, body]);
}
