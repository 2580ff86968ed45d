/**
 * Reading HEIC/HEIF. libvips as shipped with sharp reads the header of every HEIF and decodes
 * AV1 images (AVIF in a generic `mif1` container is AVIF: the probe says so and libvips reads
 * it), but its libheif has no HEVC decoder. HEVC images are decoded by libheif's own
 * `heif-convert` (Debian `libheif-examples`, with the libde265 plugin) into a PNG that libvips
 * then reads, as a child process in a private temporary folder (tool.ts), killed on abort or at
 * the deadline.
 *
 * Limits come first: every image-size (`ispe`) property of the file's `meta` box (ISO/IEC
 * 23008-12 §6.5.3.1; every item, thumbnails and grid tiles included) must fit the pixel limit,
 * and so must the primary image times the number of top-level images, because heif-convert
 * decodes every top-level image, not only the primary one.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { vips } from '../sharp-setup.js';
import { bad, checkPixels } from './refuse.js';
import { probeTool, runTool, withTempDir, type ToolProbe } from './tool.js';
import type { Codec, Decoded, DecodeLimits, Probe } from './types.js';

const HEIF_CONVERT = 'heif-convert';
/** How many top-level boxes are looked at for `meta`. */
const MAX_BOXES = 1024;

let probed: ToolProbe | null = null;

/** Whether heif-convert is there with an HEVC decoder: asked once, at startup. */
function hevc(): ToolProbe {
  probed ??= probeTool(HEIF_CONVERT, ['--list-decoders'], (out) => (/libde265/.test(out) ? null : 'heif-convert has no HEVC decoder (libde265-0)'), 'libheif-examples');
  return probed;
}

/** The largest width × height any `ispe` property of the top-level `meta` box declares. */
export function largestIspe(buf: Buffer): { width: number; height: number } | null {
  let best: { width: number; height: number } | null = null;
  // `meta` follows `ftyp` in every HEIF writer's output; a file of endless tiny boxes is not walked to its end.
  for (let at = 0, boxes = 0; at + 8 <= buf.length && boxes < MAX_BOXES; boxes++) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (size === 1 && at + 16 <= buf.length) size = Number(buf.readBigUInt64BE(at + 8));
    else if (size === 0) size = buf.length - at;
    if (size < 8) break;
    if (type === 'meta') {
      const meta = buf.subarray(at, Math.min(buf.length, at + size));
      for (let i = meta.indexOf('ispe'); i >= 0 && i + 16 <= meta.length; i = meta.indexOf('ispe', i + 4)) {
        // box header (size, 'ispe'), version and flags, then 32-bit width and height.
        const width = meta.readUInt32BE(i + 8);
        const height = meta.readUInt32BE(i + 12);
        if (!best || width * height > best.width * best.height) best = { width, height };
      }
      break;
    }
    at += size;
  }
  return best;
}

async function meta(source: Buffer): Promise<Metadata> {
  return vips(sharp(source, { limitInputPixels: false }).metadata(), 'HEIF');
}

export const heicReader: Codec = {
  format: 'heic',
  by: 'libvips (AV1); heif-convert from Debian libheif-examples (HEVC, child process)',
  get available(): boolean {
    return hevc().available;
  },
  get unavailableReason(): string | undefined {
    const r = hevc();
    return r.available ? undefined : `HEIC images coded with HEVC are refused: ${r.reason}`;
  },
  decoder: {
    async probe(source: Buffer): Promise<Probe> {
      const m = await meta(source);
      return { width: m.width, height: m.height, pages: Math.max(1, m.pages ?? 1), hasAlpha: m.hasAlpha, ...(m.compression === 'av1' ? { format: 'avif' as const } : {}) };
    },
    async decode(source: Buffer, _request, limits: DecodeLimits): Promise<Decoded> {
      const m = await meta(source);
      if (m.compression === 'av1') return { kind: 'encoded', data: source };
      const images = Math.max(1, m.pages ?? 1);
      checkPixels(m.width, m.height * images, limits.maxPixels);
      const ispe = largestIspe(source);
      if (ispe) checkPixels(ispe.width, ispe.height, limits.maxPixels);
      const tool = hevc();
      if (!tool.available) throw bad(`HEIC with HEVC cannot be decoded here: ${tool.reason}`);
      return withTempDir(async (dir) => {
        await writeFile(join(dir, 'in.heic'), source);
        await runTool(HEIF_CONVERT, ['--quiet', join(dir, 'in.heic'), join(dir, 'out.png')], limits, 'HEIC decoder');
        // One top-level image: out.png; several: out-1.png, out-2.png… in libheif's order,
        // the same order libvips counts `pagePrimary` in.
        const files = await readdir(dir);
        const name = files.includes('out.png') ? 'out.png' : `out-${(m.pagePrimary ?? 0) + 1}.png`;
        if (!files.includes(name)) throw bad('HEIC: heif-convert wrote no image');
        return { kind: 'encoded', data: await readFile(join(dir, name)) };
      });
    },
  },
};
