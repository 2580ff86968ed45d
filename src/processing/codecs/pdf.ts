/**
 * The PDF row of the registry: PDFium (pdfium.ts) in a codec worker (worker-pool.ts). `probe` gives the
 * page count and the size of the pages asked for (`select`'s page and pages, stacked) in
 * points, which is the size a PDF has here before any scaling (72 DPI, as libvips' pdfload
 * reads it); `decode` renders `pages` pages from `page` (imgproxy Pro's `page`/`pages`) at
 * `scale` pixels per point, stacked, as raw RGB. The page count (PIXPROXY_MAX_SRC_PAGES), the
 * bitmap and every image the page draws are bounded before PDFium decodes them.
 */
import { defaultPreviewSettings } from './preview-settings.js';
import type { Codec, DecodeLimits, Probe } from './types.js';
import { decodeInWorker, pdfPagesInWorker } from './worker-decode.js';

function settings(limits: DecodeLimits) {
  return limits.previews ?? defaultPreviewSettings();
}

export const pdfReader: Codec = {
  format: 'pdf',
  by: '@embedpdf/pdfium (PDFium in WebAssembly, worker thread)',
  available: true,
  decoder: {
    async probe(source, limits, select): Promise<Probe> {
      const count = Math.min(Math.max(1, select?.pages ?? 1), Math.max(1, limits.maxFrames));
      const p = await pdfPagesInWorker({ source, page: select?.page ?? 0, count, maxPages: settings(limits).maxPages }, limits);
      // The pages stacked: the widest sets the width.
      const width = Math.max(1, ...p.sizes.map((s) => s.width));
      const height = p.sizes.reduce((h, s) => h + s.height, 0);
      return { width: Math.round(width), height: Math.max(1, Math.round(height)), pages: p.pages, hasAlpha: false };
    },
    decode(source, request, limits) {
      const count = Math.min(Math.max(1, request.pages ?? 1), Math.max(1, limits.maxFrames));
      // A vector is drawn at the size asked, within the intermediate bound rather than the source's.
      const maxPixels = Math.max(limits.maxPixels, settings(limits).maxRenderPixels);
      return decodeInWorker({ codec: 'pdf', source, page: request.page ?? 0, count, scale: request.scale ?? 1 }, { ...limits, maxPixels });
    },
  },
};
