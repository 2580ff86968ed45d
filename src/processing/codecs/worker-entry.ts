/**
 * The entry of every codec worker (worker-pool.ts starts them): runs the jobs of jobs.ts one at
 * a time (the synchronous JavaScript decoders of BMP, ICO bitmaps and the PSD composite, libjxl
 * and PDFium in WASM, pixproxy's BMP writer, DSSIM) and answers each with its result, byte
 * buffers transferred rather than copied, and the size of the WebAssembly heaps the thread now
 * holds, by which the pool decides whether to keep it. A ProxyError keeps its code and message
 * across the thread boundary; any other failure is sent as its message, for the pool to name.
 */
import { parentPort } from 'node:worker_threads';
import { ProxyError } from '../../errors.js';
import { dssim } from '../ssim.js';
import { decodeBmp, type RawImage } from './bmp-read.js';
import { encodeBmp } from './bmp-write.js';
import { decodeIcoBitmap } from './ico-read.js';
import { resultBuffers, type DecodeJob, type Job, type JobKind, type JobReply, type JobRequest, type JobResults, type WireDecoded } from './jobs.js';
import { decodeJxlRgba, encodeJxlRgba, jxlHeapBytes } from './jxl-wasm.js';
import { pdfiumHeapBytes, probePdf, renderPdf } from './pdfium.js';
import { decodePsd } from './psd-read.js';

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

async function decode(job: DecodeJob): Promise<WireDecoded> {
  const source = Buffer.from(job.source.buffer, job.source.byteOffset, job.source.byteLength);
  switch (job.codec) {
    case 'psd': {
      const r = decodePsd(source, { maxPixels: job.maxPixels, highDepth: job.highDepth });
      return { kind: 'raw', data: owned(r.data), width: r.width, height: r.height, channels: r.channels, depth: r.depth };
    }
    case 'pdf': {
      const r = await renderPdf(job.source, job.page, job.count, job.scale, { maxPixels: job.maxPixels, maxImagePixels: job.maxPixels });
      return { kind: 'raw', data: owned(r.data), width: r.width, height: r.height, channels: 3 };
    }
    case 'bmp':
      return wire(decodeBmp(source, job.maxPixels));
    case 'ico':
      return wire(decodeIcoBitmap(source, job.maxPixels));
    case 'jxl': {
      const img = await decodeJxlRgba(source);
      if (img.width * img.height > job.maxPixels) throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${img.width}x${img.height} is over the limit`);
      return compact(img.data, img.width, img.height);
    }
  }
}

type Handlers = { readonly [K in JobKind]: (job: Extract<Job, { kind: K }>) => Promise<JobResults[K]> | JobResults[K] };

const HANDLERS: Handlers = {
  decode,
  'pdf-pages': (job) => probePdf(job.source, job.page, job.count, job.maxPages),
  'jxl-encode': async (job) => owned(new Uint8Array(await encodeJxlRgba(job.module, job.wasm, job.pixels, job.width, job.height, job))),
  'bmp-encode': (job) => owned(encodeBmp(Buffer.from(job.pixels), job.width, job.height, job.channels)),
  dssim: (job) => dssim(new Uint8Array(job.a), new Uint8Array(job.b), job.width, job.height, job.channels),
};

async function run(job: Job): Promise<JobResults[JobKind]> {
  // One handler per kind; TypeScript cannot pair a union's member with its handler by itself.
  const handler = HANDLERS[job.kind] as (job: Job) => Promise<JobResults[JobKind]> | JobResults[JobKind];
  return handler(job);
}

const heap = (): number => pdfiumHeapBytes() + jxlHeapBytes();

const port = parentPort;
port?.on('message', ({ id, job }: JobRequest) => {
  run(job).then(
    (result) => port.postMessage({ id, ok: true, result, heap: heap() } satisfies JobReply, resultBuffers(result)),
    // An Emscripten abort is a RuntimeError; its message is all the main thread needs.
    (err: unknown) => {
      const reply: JobReply = err instanceof ProxyError ? { id, ok: false, code: err.code, message: err.message, heap: heap() } : { id, ok: false, message: err instanceof Error ? err.message : String(err), heap: heap() };
      port.postMessage(reply);
    },
  );
});
