/**
 * The worker thread of worker-pool.ts: decodes one source at a time with the synchronous
 * JavaScript decoders (BMP, ICO bitmaps, the PSD composite), libjxl or PDFium in WASM, and
 * sends the pixels back (transferred, not copied). A ProxyError keeps its code across the
 * thread boundary; any other failure of PDFium is PreviewProxy's `pdf_render_error`. A worker
 * whose PDFium heap grew past RETIRE_HEAP_BYTES asks to be retired, so one large page does not
 * keep its memory for the life of the process.
 */
import { parentPort } from 'node:worker_threads';
import { ProxyError } from '../../errors.js';
import { decodeBmp, type RawImage } from './bmp-read.js';
import { decodeIcoBitmap } from './ico-read.js';
import { decodeJxlRgba } from './jxl-wasm.js';
import { heapBytes, probePdf, renderPdf } from './pdfium.js';
import { decodePsd } from './psd-read.js';
import type { WireDecoded, WorkerReply, WorkerRequest } from './worker-pool.js';

/**
 * Bytes that own their whole ArrayBuffer, so transferring it moves nothing else: a Buffer may
 * be a slice of Node's shared pool, and libjxl's pixels may be a view of the WASM heap.
 */
function owned(data: Uint8Array | Uint8ClampedArray): Uint8Array {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) return new Uint8Array(data.buffer);
  return new Uint8Array(data);
}

function wire(r: RawImage | { encoded: Buffer }): WireDecoded {
  if ('encoded' in r) return { kind: 'encoded', data: owned(r.encoded) };
  return { kind: 'raw', data: owned(r.data), width: r.width, height: r.height, channels: r.channels };
}

const RETIRE_HEAP_BYTES = 256 * 1024 * 1024;

/** How far apart a grey image's channels come out of libjxl's conversion to sRGB. */
const GREY_TOLERANCE = 2;

/**
 * libjxl hands out RGBA: an opaque image loses its alpha channel and a grey one its colour
 * channels, so the rest of the pipeline sees what the file holds (a grey JPEG XL stays grey).
 */
function compact(rgba: Uint8ClampedArray, width: number, height: number): WireDecoded {
  let opaque = true;
  let grey = true;
  for (let i = 0; i < rgba.length && (opaque || grey); i += 4) {
    if (rgba[i + 3] !== 255) opaque = false;
    const r = rgba[i] ?? 0;
    if (Math.abs(r - (rgba[i + 1] ?? 0)) > GREY_TOLERANCE || Math.abs(r - (rgba[i + 2] ?? 0)) > GREY_TOLERANCE) grey = false;
  }
  const channels = ((grey ? 1 : 3) + (opaque ? 0 : 1)) as 1 | 2 | 3 | 4;
  if (channels === 4) return { kind: 'raw', data: owned(rgba), width, height, channels };
  const n = width * height;
  const out = new Uint8Array(n * channels);
  for (let i = 0, o = 0; i < n; i++) {
    const s = i * 4;
    if (grey) out[o++] = rgba[s + 1] ?? 0;
    else {
      out[o++] = rgba[s] ?? 0;
      out[o++] = rgba[s + 1] ?? 0;
      out[o++] = rgba[s + 2] ?? 0;
    }
    if (!opaque) out[o++] = rgba[s + 3] ?? 0;
  }
  return { kind: 'raw', data: out, width, height, channels };
}

type Answer = { decoded: WireDecoded } | { pages: Awaited<ReturnType<typeof probePdf>> };

async function answer(req: WorkerRequest): Promise<Answer> {
  if (req.codec === 'pdf-pages') return { pages: await probePdf(req.source, req.page, req.count, req.maxPages) };
  return { decoded: await decode(req) };
}

async function decode(req: Exclude<WorkerRequest, { codec: 'pdf-pages' }>): Promise<WireDecoded> {
  const source = Buffer.from(req.source.buffer, req.source.byteOffset, req.source.byteLength);
  switch (req.codec) {
    case 'psd': {
      const r = decodePsd(source, { maxPixels: req.maxPixels, highDepth: req.highDepth });
      return { kind: 'raw', data: owned(r.data), width: r.width, height: r.height, channels: r.channels, depth: r.depth };
    }
    case 'pdf': {
      const r = await renderPdf(req.source, req.page, req.count, req.scale, { maxPixels: req.maxPixels, maxImagePixels: req.maxPixels });
      return { kind: 'raw', data: owned(r.data), width: r.width, height: r.height, channels: 3 };
    }
    case 'bmp':
      return wire(decodeBmp(source, req.maxPixels));
    case 'ico':
      return wire(decodeIcoBitmap(source, req.maxPixels));
    case 'jxl': {
      const img = await decodeJxlRgba(source);
      if (img.width * img.height > req.maxPixels) throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${img.width}x${img.height} is over the limit`);
      return compact(img.data, img.width, img.height);
    }
  }
}

parentPort?.on('message', (req: WorkerRequest) => {
  answer(req)
    .then(async (a) => ({ a, retire: req.codec.startsWith('pdf') && (await heapBytes()) > RETIRE_HEAP_BYTES }))
    .then(
      ({ a, retire }) => {
        const reply: WorkerReply = { id: req.id, ok: true, ...a, retire };
        parentPort?.postMessage(reply, 'decoded' in a ? [a.decoded.data.buffer as ArrayBuffer] : []);
      },
      (err: unknown) => {
        const reply: WorkerReply =
          err instanceof ProxyError
            ? { id: req.id, ok: false, code: err.code, message: err.message }
            : { id: req.id, ok: false, ...(req.codec.startsWith('pdf') ? { code: 'PDF_RENDER_ERROR' as const } : {}), message: `${req.codec}: ${err instanceof Error ? err.message : String(err)}` };
        parentPort?.postMessage(reply);
      },
    );
});
