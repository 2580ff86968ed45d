/**
 * The PSD/PSB codec: the composite image of a Photoshop file (psd-read.ts). The header is
 * read here (a few section lengths, no pixels), the composite is decoded in the preview worker
 * pool, 8-bit, or 16-bit when asked (preserve_hdr) and the file has the bits.
 */
import type { CodecJob, CodecResult } from './codec-worker.js';
import { ownedCopy } from './pdf.js';
import { readPsdHeader, type PsdPixels } from './psd-read.js';
import type { Codec, Decoder } from './types.js';
import type { WorkerPool } from './worker-pool.js';

export function createPsdDecoder(pool: WorkerPool<CodecJob, CodecResult>): Decoder {
  return {
    probe(source) {
      const h = readPsdHeader(source);
      return Promise.resolve({ width: h.width, height: h.height, pages: 1, hasAlpha: h.hasAlpha, highDepth: h.depth > 8 });
    },
    async decode(source, request, limits) {
      const data = ownedCopy(source);
      const r = (await pool.run(
        { op: 'psd-decode', data, limits: { maxPixels: limits.maxPixels, highDepth: request.highDepth === true } },
        { deadline: limits.deadline, signal: limits.signal, transfer: [data.buffer as ArrayBuffer] },
      )) as PsdPixels;
      return { kind: 'raw', data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength), width: r.width, height: r.height, channels: r.channels, depth: r.depth };
    },
  };
}

export function psdCodec(decoder: Decoder): Codec {
  return { format: 'psd', by: 'pixproxy (psd-read.ts)', available: true, decoder };
}
