/**
 * The PDF codec: PDFium (pdfium.ts) in the preview worker pool. `probe` gives the page count
 * and the size of the wanted page in points, which is the size a PDF has here before any
 * scaling (72 DPI, as libvips' pdfload reads it); `decode` renders `pages` pages from `page`
 * (imgproxy Pro's `page`/`pages`) at `scale` pixels per point, stacked, as raw RGB. The page
 * count, the bitmap and every image the page draws are bounded before PDFium decodes them.
 */
import { ProxyError } from '../../errors.js';
import type { CodecJob, CodecResult } from './codec-worker.js';
import type { PdfProbe, PdfRender } from './pdfium.js';
import type { Codec, DecodeLimits, DecodeRequest, Decoded, Decoder, Probe } from './types.js';
import type { WorkerPool } from './worker-pool.js';

export interface PdfCodecOptions {
  /** PIXPROXY_MAX_SRC_PAGES. */
  readonly maxPages: number;
}

export interface PdfDecoder extends Decoder {
  /** Page count and the sizes (points) of `count` pages from `page`, clamped to the document. */
  pages(source: Buffer, page: number, count: number, limits: DecodeLimits): Promise<PdfProbe>;
}

/** A copy of `source` the worker can own (a Buffer may be a view of a larger, shared one). */
export function ownedCopy(source: Buffer): Uint8Array {
  return new Uint8Array(source);
}

export function createPdfDecoder(pool: WorkerPool<CodecJob, CodecResult>, o: PdfCodecOptions): PdfDecoder {
  const pages = async (source: Buffer, page: number, count: number, limits: DecodeLimits): Promise<PdfProbe> => {
    const data = ownedCopy(source);
    return (await pool.run({ op: 'pdf-probe', data, page, count, maxPages: o.maxPages }, { deadline: limits.deadline, signal: limits.signal, transfer: [data.buffer as ArrayBuffer] })) as PdfProbe;
  };
  return {
    pages,
    async probe(source, limits): Promise<Probe> {
      const p = await pages(source, 0, 1, limits);
      const first = p.sizes[0];
      if (!first) throw new ProxyError('PDF_RENDER_ERROR', 'PDF: the document has no pages');
      return { width: Math.round(first.width), height: Math.round(first.height), pages: p.pages, hasAlpha: false };
    },
    async decode(source, request: DecodeRequest, limits): Promise<Decoded> {
      const count = Math.min(Math.max(1, request.pages ?? 1), limits.maxFrames);
      const data = ownedCopy(source);
      const job: CodecJob = {
        op: 'pdf-render',
        data,
        page: request.page ?? 0,
        count,
        scale: request.scale ?? 1,
        limits: { maxPixels: limits.maxPixels, maxImagePixels: limits.maxPixels },
      };
      const r = (await pool.run(job, { deadline: limits.deadline, signal: limits.signal, transfer: [data.buffer as ArrayBuffer] })) as PdfRender;
      return { kind: 'raw', data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength), width: r.width, height: r.height, channels: 3 };
    },
  };
}

export function pdfCodec(decoder: PdfDecoder): Codec {
  return { format: 'pdf', by: '@embedpdf/pdfium (PDFium, WebAssembly)', available: true, decoder };
}
