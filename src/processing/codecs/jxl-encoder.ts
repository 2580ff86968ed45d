/**
 * JPEG XL output: libjxl as WebAssembly from the npm package @jsquash/jxl (Apache-2.0,
 * https://github.com/jamsinclair/jSquash), run in a codec worker (worker-pool.ts). Chosen over
 * Debian's libjxl-tools `cjxl` (libjxl 0.7, a child process fed through temporary files, one
 * more system package) and ffmpeg's libjxl encoder (the same 0.7): the package ships its code,
 * so JPEG XL works wherever `npm install` ran, and the same package decodes JPEG XL.
 *
 * Its one limit is memory: the WASM build addresses 2 GiB and libjxl needs ~80 bytes per pixel
 * (4096² took 1.3 GB and 5000² aborted, measured with effort 4), so results over
 * JXL_MAX_PIXELS are refused (or, when JPEG XL was only negotiated, another format is chosen).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Encoder, EncodeInput, EncodeSettings } from './types.js';
import { copyToTransfer, runJob } from './worker-pool.js';

/** 4096 × 4096: what the WASM heap holds with room to spare. */
export const JXL_MAX_PIXELS = 4096 * 4096;

/** libjxl's default effort ("squirrel"), imgproxy's IMGPROXY_JXL_EFFORT default is 4. */
const DEFAULT_EFFORT = 7;

const pkgDir = dirname(createRequire(import.meta.url).resolve('@jsquash/jxl/package.json'));

export const JXL_ENCODE_MODULE = pathToFileURL(join(pkgDir, 'encode.js')).href;

/** Node's WebAssembly global; the ES2023 lib without the DOM types only declares its namespace. */
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }).WebAssembly;

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** The package's WASM, compiled once per process and cloned to each worker. */
export function jxlWasm(kind: 'enc' | 'dec'): Promise<WebAssembly.Module> {
  let m = compiled.get(kind);
  if (!m) {
    m = readFile(join(pkgDir, 'codec', kind, `jxl_${kind}.wasm`)).then((b) => wasmApi.compile(b));
    compiled.set(kind, m);
  }
  return m;
}

export const jxlEncoder: Encoder = {
  async encode(pixels: EncodeInput, settings: EncodeSettings): Promise<Buffer> {
    if (pixels.channels !== 4) throw new RangeError('jxlEncoder: expects RGBA pixels');
    const data = copyToTransfer(pixels.data);
    const bytes = await runJob(
      {
        kind: 'jxl-encode',
        module: JXL_ENCODE_MODULE,
        wasm: await jxlWasm('enc'),
        pixels: data,
        width: pixels.width,
        height: pixels.height,
        quality: settings.quality,
        effort: settings.effort ?? DEFAULT_EFFORT,
        lossless: settings.lossless === true,
      },
      [data],
      settings,
    );
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
};
