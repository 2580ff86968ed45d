/**
 * A cached /info answer: the JSON bytes as sent, and how they are stored (the same backends
 * and layers as results, under keys of their own, `<source>_i…`, see key.ts).
 */
import type { BlobMeta } from '../storage/types.js';
import { computeEtag } from './image-entry.js';
import type { LayerCodec } from './layers.js';

export interface CachedInfo {
  /** The answer's JSON, UTF-8. */
  data: Buffer;
  createdAt: number;
  bornAt?: number;
  tags?: readonly string[];
}

const KIND = 'info';
const VERSION = '1';

export const infoCodec: LayerCodec<CachedInfo> = {
  encode(info) {
    const extra: Record<string, string> = { v: VERSION, kind: KIND, createdAt: String(info.createdAt), bornAt: String(info.bornAt ?? info.createdAt) };
    if (info.tags !== undefined && info.tags.length > 0) extra.tags = info.tags.join(',');
    return { contentType: 'application/json', etag: computeEtag(info.data), extra };
  },
  decode(meta: BlobMeta, data: Buffer): CachedInfo | null {
    const x = meta.extra;
    if (x?.v !== VERSION || x.kind !== KIND || data.length !== meta.size) return null;
    const createdAt = Number(x.createdAt);
    const bornAt = Number(x.bornAt);
    if (!Number.isFinite(createdAt) || !Number.isFinite(bornAt)) return null;
    return { data, createdAt, bornAt, ...(x.tags ? { tags: x.tags.split(',') } : {}) };
  },
};
