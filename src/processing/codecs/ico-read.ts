/**
 * Reading ICO and CUR, which libvips as shipped with sharp cannot load. An icon file is a
 * directory of images, each a PNG or a headerless BMP (DIB) with an AND mask
 * (https://learn.microsoft.com/en-us/previous-versions/ms997538(v=msdn.10)). The probe answers
 * the largest entry, as imgproxy's loader does
 * (https://github.com/imgproxy/imgproxy/blob/master/vips/icoload.c); when the result size is
 * known before the decode, the smallest entry that covers it is decoded instead, so a 32×32
 * answer comes from the icon's own 32×32 drawing rather than a 256×256 one scaled down.
 *
 * A PNG entry goes to libvips as it is; a bitmap entry is decoded by bmp-read.ts in a worker
 * thread. Entry sizes are read from the entries themselves (the directory's bytes may lie).
 */
import type { Codec, Decoded, DecodeLimits, DecodeRequest, Probe } from './types.js';
import { decodeDib, dibHasAlpha, readDibHeader, type RawImage } from './bmp-read.js';
import { bad, checkPixels } from './refuse.js';
import { decodeInWorker } from './worker-decode.js';

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface IcoEntry {
  width: number;
  height: number;
  /** Bits per pixel (0 when unknown: cursors keep the hotspot there). */
  bpp: number;
  hasAlpha: boolean;
  png: boolean;
  offset: number;
  size: number;
}

function isPng(buf: Buffer, at: number): boolean {
  return at + 8 <= buf.length && buf.subarray(at, at + 8).equals(PNG_SIG);
}

/** Every readable entry of the directory, with its real size. */
export function icoEntries(buf: Buffer): IcoEntry[] {
  if (buf.length < 6 || buf.readUInt16LE(0) !== 0) throw bad('not an ICO file');
  const type = buf.readUInt16LE(2);
  const count = buf.readUInt16LE(4);
  if ((type !== 1 && type !== 2) || count === 0) throw bad('not an ICO file');
  if (6 + count * 16 > buf.length) throw bad('ICO: truncated directory');
  const out: IcoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = 6 + i * 16;
    const size = buf.readUInt32LE(e + 8);
    const offset = buf.readUInt32LE(e + 12);
    if (size === 0 || offset < 6 + count * 16 || offset + size > buf.length) continue;
    const dirBpp = type === 1 ? buf.readUInt16LE(e + 6) : 0;
    if (isPng(buf, offset)) {
      if (size < 33) continue;
      // IHDR: width and height, bit depth, colour type (4 and 6 carry alpha; 3 may by tRNS).
      const colourType = buf[offset + 25] ?? 0;
      out.push({ width: buf.readUInt32BE(offset + 16), height: buf.readUInt32BE(offset + 20), bpp: dirBpp || 32, hasAlpha: colourType !== 0 && colourType !== 2, png: true, offset, size });
      continue;
    }
    try {
      const h = readDibHeader(buf.subarray(offset, offset + size), 0, true);
      // Bitmap entries without an alpha channel get their transparency from the AND mask.
      out.push({ width: h.width, height: h.height, bpp: h.bpp, hasAlpha: dibHasAlpha(h) || h.bpp < 32, png: false, offset, size });
    } catch {
      // An unreadable entry is skipped; another may still be good.
    }
  }
  if (out.length === 0) throw bad('ICO: no readable image entry');
  return out;
}

/** The largest entry (ties: the deepest colour). */
export function largestEntry(entries: readonly IcoEntry[]): IcoEntry {
  let best = entries[0] as IcoEntry;
  for (const e of entries) {
    const area = e.width * e.height;
    const bestArea = best.width * best.height;
    if (area > bestArea || (area === bestArea && e.bpp > best.bpp)) best = e;
  }
  return best;
}

/** The smallest entry that covers `size` (ties: the deepest colour), else the largest. */
export function entryFor(entries: readonly IcoEntry[], size: { width: number; height: number } | undefined): IcoEntry {
  const largest = largestEntry(entries);
  if (!size) return largest;
  let best: IcoEntry | null = null;
  for (const e of entries) {
    if (e.width < size.width || e.height < size.height) continue;
    const area = e.width * e.height;
    const bestArea = best ? best.width * best.height : Infinity;
    if (area < bestArea || (best && area === bestArea && e.bpp > best.bpp)) best = e;
  }
  return best ?? largest;
}

/** Decodes one bitmap entry to raw pixels (worker side). */
export function decodeIcoBitmap(entry: Buffer, maxPixels: number): RawImage {
  const r = decodeDib(entry, 0, undefined, true, maxPixels);
  if ('encoded' in r) throw bad('ICO: a bitmap entry cannot wrap JPEG or PNG');
  return r;
}

export const icoReader: Codec = {
  format: 'ico',
  by: 'pixproxy (JavaScript, worker thread); PNG entries: libvips',
  available: true,
  decoder: {
    async probe(source: Buffer): Promise<Probe> {
      const e = largestEntry(icoEntries(source));
      return { width: e.width, height: e.height, pages: 1, hasAlpha: e.hasAlpha };
    },
    async decode(source: Buffer, request: DecodeRequest, limits: DecodeLimits): Promise<Decoded> {
      const e = entryFor(icoEntries(source), request.size);
      checkPixels(e.width, e.height, limits.maxPixels);
      const body = source.subarray(e.offset, e.offset + e.size);
      if (e.png) return { kind: 'encoded', data: body };
      return decodeInWorker({ codec: 'ico', source: body }, limits);
    },
  },
};
