/**
 * PDFium (the PDF engine of Chromium, BSD-3-Clause) compiled to WebAssembly, as the npm
 * package @embedpdf/pdfium ships it (MIT): what the PDF codec needs of it, run inside a
 * worker thread (worker-entry.ts). Pages are measured from the document, the images drawn on
 * a page are measured before it is rendered (an embedded raster is decoded whole by PDFium,
 * so a small file can hold a gigapixel image: it is refused instead), and a page is rendered
 * into an RGB bitmap of the size asked, on white paper as libvips' pdfload does.
 *
 * The C API is PDFium's public one (https://pdfium.googlesource.com/pdfium/+/main/public/):
 * FPDF_LoadMemDocument, FPDF_GetPageCount, FPDF_GetPageSizeByIndexF, FPDFPage_CountObjects,
 * FPDFImageObj_GetImagePixelSize, FPDF_RenderPageBitmap.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { init, type WrappedPdfiumModule } from '@embedpdf/pdfium';
import { ProxyError } from '../../errors.js';

/** The part of the Emscripten module this file touches (its heap and allocator). */
interface Heap {
  readonly HEAPU8: Uint8Array;
  readonly wasmExports: { malloc(size: number): number; free(ptr: number): void };
}

/** FPDF_PAGEOBJ_IMAGE and FPDF_PAGEOBJ_FORM (fpdf_edit.h). */
const OBJ_IMAGE = 3;
const OBJ_FORM = 5;
/** FPDF_ANNOT | FPDF_REVERSE_BYTE_ORDER (fpdfview.h): annotations drawn, RGBA byte order. */
const RENDER_FLAGS = 0x01 | 0x10;
/** FPDFBitmap_BGRA. */
const BITMAP_BGRA = 4;
/** Form XObjects nest; a loop of them must not recurse forever. */
const MAX_FORM_DEPTH = 16;
/** Objects visited per page at most while measuring its images. */
const MAX_OBJECTS = 200_000;

export interface PdfPage {
  /** Points (1/72 inch), as displayed (the page's /Rotate applied). */
  readonly width: number;
  readonly height: number;
}

export interface PdfProbe {
  readonly pages: number;
  /** The sizes of the pages from `page` on, `count` of them at most. */
  readonly sizes: readonly PdfPage[];
}

export interface PdfRender {
  /** Stacked RGB rows of every page rendered, left-aligned on white. */
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

export interface RenderLimits {
  /** Largest width × height of the bitmap rendered. */
  readonly maxPixels: number;
  /** Largest embedded image (width × height) PDFium may decode to draw the page. */
  readonly maxImagePixels: number;
}

let module: Promise<WrappedPdfiumModule> | null = null;
/** The instance once ready, for its heap size. */
let ready: WrappedPdfiumModule | null = null;

function load(): Promise<WrappedPdfiumModule> {
  module ??= (async () => {
    const wasm = readFileSync(createRequire(import.meta.url).resolve('@embedpdf/pdfium/pdfium.wasm'));
    const m = await init({ wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) });
    m.PDFiumExt_Init();
    ready = m;
    return m;
  })();
  return module;
}

function heap(m: WrappedPdfiumModule): Heap {
  return m.pdfium as unknown as Heap;
}

/** FPDF_GetLastError's codes (fpdfview.h), as the client would need to hear them. */
const LOAD_ERRORS: Readonly<Record<number, string>> = {
  2: 'not a PDF, or damaged',
  3: 'damaged or not a PDF',
  4: 'password-protected',
  5: 'unsupported security handler',
  6: 'page not found or damaged',
};

/** Bytes of PDFium's WASM heap in this thread, 0 before it is loaded: it only grows, so the worker is retired past a size (worker-pool.ts). */
export function pdfiumHeapBytes(): number {
  return ready ? heap(ready).HEAPU8.length : 0;
}

/** Opens `data` in PDFium's heap for the time of `use`. */
async function withDocument<T>(data: Uint8Array, use: (m: WrappedPdfiumModule, doc: number) => T): Promise<T> {
  const m = await load();
  const h = heap(m);
  const ptr = h.wasmExports.malloc(data.length);
  if (ptr === 0) throw new ProxyError('PDF_RENDER_ERROR', 'PDF: out of memory for the document');
  try {
    h.HEAPU8.set(data, ptr);
    const doc = m.FPDF_LoadMemDocument(ptr, data.length, '');
    if (doc === 0) {
      const code = m.FPDF_GetLastError();
      throw new ProxyError('PDF_RENDER_ERROR', `PDF: cannot open the document: ${LOAD_ERRORS[code] ?? `error ${code}`}`);
    }
    try {
      return use(m, doc);
    } finally {
      m.FPDF_CloseDocument(doc);
    }
  } finally {
    h.wasmExports.free(ptr);
  }
}

/** Page count and the sizes of `count` pages from `page` (clamped to the last page). */
export function probePdf(data: Uint8Array, page: number, count: number, maxPages: number): Promise<PdfProbe> {
  return withDocument(data, (m, doc) => {
    const pages = m.FPDF_GetPageCount(doc);
    if (pages < 1) throw new ProxyError('PDF_RENDER_ERROR', 'PDF: the document has no pages');
    if (pages > maxPages) throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `PDF: ${pages} pages is over PIXPROXY_MAX_SRC_PAGES (${maxPages})`);
    const first = Math.min(Math.max(0, page), pages - 1);
    const sizes: PdfPage[] = [];
    const h = heap(m);
    const box = h.wasmExports.malloc(8);
    try {
      for (let i = first; i < Math.min(pages, first + Math.max(1, count)); i++) {
        if (!m.FPDF_GetPageSizeByIndexF(doc, i, box)) throw new ProxyError('PDF_RENDER_ERROR', `PDF: cannot read the size of page ${i}`);
        const view = new DataView(h.HEAPU8.buffer, box, 8);
        const width = view.getFloat32(0, true);
        const height = view.getFloat32(4, true);
        if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) throw new ProxyError('PDF_RENDER_ERROR', `PDF: page ${i} has no size`);
        sizes.push({ width, height });
      }
    } finally {
      h.wasmExports.free(box);
    }
    return { pages, sizes };
  });
}

/** The largest image drawn by the objects of a page or form (and their total), nested forms included. */
function images(m: WrappedPdfiumModule, count: () => number, object: (i: number) => number, depth: number, seen: { objects: number }, out: { largest: number; total: number }): void {
  const n = count();
  const h = heap(m);
  const size = h.wasmExports.malloc(8);
  try {
    for (let i = 0; i < n; i++) {
      if (++seen.objects > MAX_OBJECTS) throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `PDF: a page of more than ${MAX_OBJECTS} objects`);
      const obj = object(i);
      if (obj === 0) continue;
      const type = m.FPDFPageObj_GetType(obj);
      if (type === OBJ_IMAGE && m.FPDFImageObj_GetImagePixelSize(obj, size, size + 4)) {
        const view = new DataView(h.HEAPU8.buffer, size, 8);
        const px = view.getUint32(0, true) * view.getUint32(4, true);
        out.largest = Math.max(out.largest, px);
        out.total += px;
      } else if (type === OBJ_FORM && depth < MAX_FORM_DEPTH) {
        images(m, () => m.FPDFFormObj_CountObjects(obj), (k) => m.FPDFFormObj_GetObject(obj, k), depth + 1, seen, out);
      }
    }
  } finally {
    h.wasmExports.free(size);
  }
}

/**
 * Renders `sizes.length` pages from `page`, each at `scale` pixels per point, stacked. Refuses
 * (422) a bitmap over `maxPixels` and a page drawing an image over `maxImagePixels`.
 */
export function renderPdf(data: Uint8Array, page: number, count: number, scale: number, limits: RenderLimits): Promise<PdfRender> {
  return withDocument(data, (m, doc) => {
    const pages = m.FPDF_GetPageCount(doc);
    const first = Math.min(Math.max(0, page), Math.max(0, pages - 1));
    const last = Math.min(pages, first + Math.max(1, count));
    const rendered: { rgb: Buffer; width: number; height: number }[] = [];
    let width = 0;
    let height = 0;
    for (let i = first; i < last; i++) {
      const p = m.FPDF_LoadPage(doc, i);
      if (p === 0) throw new ProxyError('PDF_RENDER_ERROR', `PDF: cannot load page ${i}`);
      try {
        const w = Math.max(1, Math.round(m.FPDF_GetPageWidthF(p) * scale));
        const ht = Math.max(1, Math.round(m.FPDF_GetPageHeightF(p) * scale));
        if (!(Math.max(width, w) * (height + ht) <= limits.maxPixels)) {
          throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `PDF: a ${Math.max(width, w)}x${height + ht} rendering is over the resolution limit`);
        }
        const found = { largest: 0, total: 0 };
        images(m, () => m.FPDFPage_CountObjects(p), (k) => m.FPDFPage_GetObject(p, k), 0, { objects: 0 }, found);
        if (found.largest > limits.maxImagePixels || found.total > 4 * limits.maxImagePixels) {
          throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `PDF: page ${i} draws an image of ${Math.round(found.largest / 1e4) / 100} MP (${Math.round(found.total / 1e4) / 100} MP in all), over the resolution limit`);
        }
        rendered.push({ rgb: renderPage(m, p, w, ht), width: w, height: ht });
        width = Math.max(width, w);
        height += ht;
      } finally {
        m.FPDF_ClosePage(p);
      }
    }
    if (rendered.length === 1) return { data: (rendered[0] as { rgb: Buffer }).rgb, width, height };
    // Pages of other widths are left-aligned on white, as imgproxy stacks `pages`.
    const out = Buffer.alloc(width * height * 3, 255);
    let y = 0;
    for (const r of rendered) {
      for (let row = 0; row < r.height; row++) r.rgb.copy(out, ((y + row) * width) * 3, row * r.width * 3, (row + 1) * r.width * 3);
      y += r.height;
    }
    return { data: out, width, height };
  });
}

function renderPage(m: WrappedPdfiumModule, page: number, width: number, height: number): Buffer {
  const h = heap(m);
  const bitmap = m.FPDFBitmap_CreateEx(width, height, BITMAP_BGRA, 0, 0);
  if (bitmap === 0) throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `PDF: no memory for a ${width}x${height} bitmap`);
  try {
    m.FPDFBitmap_FillRect(bitmap, 0, 0, width, height, 0xffffffff);
    m.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, RENDER_FLAGS);
    const stride = m.FPDFBitmap_GetStride(bitmap);
    const at = m.FPDFBitmap_GetBuffer(bitmap);
    const src = h.HEAPU8;
    const out = Buffer.allocUnsafe(width * height * 3);
    for (let y = 0; y < height; y++) {
      let s = at + y * stride;
      let d = y * width * 3;
      for (let x = 0; x < width; x++, s += 4, d += 3) {
        out[d] = src[s] ?? 255;
        out[d + 1] = src[s + 1] ?? 255;
        out[d + 2] = src[s + 2] ?? 255;
      }
    }
    return out;
  } finally {
    m.FPDFBitmap_Destroy(bitmap);
  }
}
