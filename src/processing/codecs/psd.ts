/**
 * The PSD/PSB row of the registry: the composite image of a Photoshop file (psd-read.ts). The
 * header is read here (a few section lengths, no pixels), the composite is decoded in a codec
 * worker (worker-pool.ts), 8-bit, or 16-bit when asked (preserve_hdr) and the file has the
 * bits.
 */
import { readPsdHeader } from './psd-read.js';
import type { Codec } from './types.js';
import { decodeInWorker } from './worker-decode.js';

export const psdReader: Codec = {
  format: 'psd',
  by: 'pixproxy (psd-read.ts, worker thread)',
  available: true,
  decoder: {
    probe(source) {
      const h = readPsdHeader(source);
      return Promise.resolve({ width: h.width, height: h.height, pages: 1, hasAlpha: h.hasAlpha, highDepth: h.depth > 8 });
    },
    decode(source, request, limits) {
      return decodeInWorker({ codec: 'psd', source, highDepth: request.highDepth === true }, limits);
    },
  },
};
