/**
 * The jobs a codec worker (worker-entry.ts) runs, and what each answers, as messages: plain data
 * plus transferable byte buffers, so the worker needs nothing from the main thread's modules.
 * One union for decoders and encoders, one file for both sides of the thread boundary, so the
 * message shapes live in one place, with what the pool needs to know of each kind: its
 * concurrency lane, its name in errors, the code of its failures.
 */
import type { ErrorCode } from '../../errors.js';
import type { PdfProbe } from './pdfium.js';

/** Decoded pixels as they cross the thread boundary (a Uint8Array, transferred). */
export type WireDecoded =
  | { readonly kind: 'encoded'; readonly data: Uint8Array }
  | { readonly kind: 'raw'; readonly data: Uint8Array; readonly width: number; readonly height: number; readonly channels: 1 | 2 | 3 | 4; readonly depth?: 'uchar' | 'ushort' | undefined };

/** One source decoded to pixels; `maxPixels` bounds what the decoder may allocate. */
export type DecodeJob = { readonly kind: 'decode'; readonly source: Uint8Array; readonly maxPixels: number } & (
  | { readonly codec: 'bmp' | 'ico' | 'jxl' }
  /** The PSD composite, 16-bit when asked and the file has the bits (preserve_hdr). */
  | { readonly codec: 'psd'; readonly highDepth: boolean }
  /** `count` PDF pages from `page`, stacked, at `scale` pixels per point. */
  | { readonly codec: 'pdf'; readonly page: number; readonly count: number; readonly scale: number }
);

/** A PDF's page count and page sizes, read by PDFium without rendering (refused past `maxPages`). */
export interface PdfPagesJob {
  readonly kind: 'pdf-pages';
  readonly source: Uint8Array;
  readonly page: number;
  readonly count: number;
  readonly maxPages: number;
}

/** JPEG XL through @jsquash/jxl (libjxl compiled to WebAssembly, https://github.com/jamsinclair/jSquash). */
export interface JxlEncodeJob {
  readonly kind: 'jxl-encode';
  /** File URL of `@jsquash/jxl/encode.js`, resolved by the main thread. */
  readonly module: string;
  /** Compiled once by the main thread; a WebAssembly.Module is cloned to workers, not recompiled. */
  readonly wasm: WebAssembly.Module;
  /** RGBA, 8 bits per sample. */
  readonly pixels: ArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly quality: number;
  /** libjxl effort 1 (fast) – 9 (small). */
  readonly effort: number;
  readonly lossless: boolean;
}

/** pixproxy's own BMP writer (codecs/bmp-write.ts `encodeBmp`). */
export interface BmpEncodeJob {
  readonly kind: 'bmp-encode';
  readonly pixels: ArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

/** Structural dissimilarity of two images of one size and layout (processing/ssim.ts). */
export interface DssimJob {
  readonly kind: 'dssim';
  readonly a: ArrayBuffer;
  readonly b: ArrayBuffer;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

export type Job = DecodeJob | PdfPagesJob | JxlEncodeJob | BmpEncodeJob | DssimJob;
export type JobKind = Job['kind'];

/** What each kind of job answers. */
export interface JobResults {
  readonly decode: WireDecoded;
  readonly 'pdf-pages': PdfProbe;
  /** The encoded file, owning its whole buffer. */
  readonly 'jxl-encode': Uint8Array;
  readonly 'bmp-encode': Uint8Array;
  readonly dssim: number;
}

export type ResultOf<J extends Job> = JobResults[J['kind']];

/** The byte buffers of a result: what the worker transfers, and what the pool weighs. */
export function resultBuffers(r: JobResults[JobKind]): ArrayBuffer[] {
  if (typeof r === 'number') return [];
  if (r instanceof Uint8Array) return [r.buffer as ArrayBuffer];
  return 'data' in r ? [r.data.buffer as ArrayBuffer] : [];
}

/**
 * Which bound a job counts against: decoders may use every core (the request waits on them to
 * have pixels at all), encoders and DSSIM half of them, since they run while libvips' own
 * threads work on other requests.
 */
export type Lane = 'decode' | 'encode';

export const LANE: { readonly [K in JobKind]: Lane } = {
  decode: 'decode',
  'pdf-pages': 'decode',
  'jxl-encode': 'encode',
  'bmp-encode': 'encode',
  dssim: 'encode',
};

const NAMES: { readonly [K in Exclude<JobKind, 'decode'>]: string } = {
  'pdf-pages': 'pdf',
  'jxl-encode': 'JPEG XL encoder',
  'bmp-encode': 'BMP encoder',
  dssim: 'DSSIM',
};

/** What names the job in its errors: the codec of a decode, the encoder of an encode. */
export function jobName(job: Job): string {
  return job.kind === 'decode' ? job.codec : NAMES[job.kind];
}

/** The code of a codec failure that is not a ProxyError of its own: any failure of PDFium is PreviewProxy's `pdf_render_error`. */
export function failureCode(job: Job): ErrorCode {
  return job.kind === 'pdf-pages' || (job.kind === 'decode' && job.codec === 'pdf') ? 'PDF_RENDER_ERROR' : 'UNSUPPORTED_IMAGE';
}

/** A job as it is posted: `id` pairs it with its reply. */
export interface JobRequest {
  readonly id: number;
  readonly job: Job;
}

export type JobReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly result: JobResults[JobKind];
      /** Bytes of the WebAssembly heaps the worker holds after the job (they never shrink). */
      readonly heap: number;
    }
  | {
      readonly id: number;
      readonly ok: false;
      /** Set when the job refused with a ProxyError of its own: its code and message are the client's. */
      readonly code?: ErrorCode | undefined;
      readonly message: string;
      readonly heap: number;
    };
