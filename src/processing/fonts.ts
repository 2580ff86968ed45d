/**
 * Fonts for text watermarks. pixproxy ships DejaVu (the `dejavu-fonts-ttf` package, under the
 * Bitstream Vera licence: free to use and redistribute) and hands its files to Pango through
 * libvips' `fontfile`, so the default text looks the same on every machine, whatever fonts
 * the system has or lacks (a fresh Debian has none, and no fontconfig configuration).
 *
 * A named font other than `sans` is looked up as PreviewProxy looks it up
 * (src/modules/transform/ops/watermark.rs `load_font`, https://github.com/ViGrise/previewproxy):
 * `/usr/share/fonts/truetype/<n>.ttf`, `/usr/share/fonts/<n>.ttf`,
 * `/usr/local/share/fonts/<n>.ttf`, `/usr/share/fonts/truetype/<n>/<n>.ttf`; a name with `/`,
 * `\` or `..`, or one not found, falls back to the bundled font, as there. Reading the file
 * is the only I/O here: the family Pango must be asked for and the vertical metrics are in it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface FontFile {
  /** The file Pango loads. */
  path: string;
  /** Family name as fontconfig indexes it. */
  family: string;
  /** (ascent + descent) / units per em: PreviewProxy's pixel size is that line height. */
  lineToEm: number;
}

/** The bundled families, each with its four faces (Pango picks bold and italic from them). */
const BUNDLED_FILES = [
  'DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf',
  'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf', 'DejaVuSerif-Italic.ttf', 'DejaVuSerif-BoldItalic.ttf',
  'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSansMono-Oblique.ttf', 'DejaVuSansMono-BoldOblique.ttf',
] as const;

function bundledDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
}

/** Every bundled file, for registration with Pango before the first text is drawn. */
export function bundledFontFiles(): string[] {
  const dir = bundledDir();
  return BUNDLED_FILES.map((f) => join(dir, f));
}

/** Reads a 16/32-bit big-endian value, or throws on a short file. */
function u16(b: Buffer, at: number): number {
  return b.readUInt16BE(at);
}

/** The tables of an sfnt (TrueType/OpenType) file: tag → [offset, length]. */
function tables(b: Buffer): Map<string, [number, number]> {
  const version = b.readUInt32BE(0);
  // 0x00010000 (TrueType outlines) or 'OTTO' (CFF); collections are not font files here.
  if (version !== 0x00010000 && version !== 0x4f54544f) throw new Error('not a TrueType/OpenType font');
  const n = u16(b, 4);
  const map = new Map<string, [number, number]>();
  for (let i = 0; i < n; i++) {
    const at = 12 + i * 16;
    const offset = b.readUInt32BE(at + 8);
    const length = b.readUInt32BE(at + 12);
    if (offset + length > b.length) throw new Error('truncated font table');
    map.set(b.toString('latin1', at, at + 4), [offset, length]);
  }
  return map;
}

/** The family name (typographic family, else family) from the `name` table. */
function familyName(b: Buffer, [offset, length]: [number, number]): string {
  const count = u16(b, offset + 2);
  const strings = offset + u16(b, offset + 4);
  const found = new Map<number, string>();
  for (let i = 0; i < count; i++) {
    const r = offset + 6 + i * 12;
    if (r + 12 > offset + length) break;
    const platform = u16(b, r);
    const nameId = u16(b, r + 6);
    if (nameId !== 1 && nameId !== 16) continue;
    const len = u16(b, r + 8);
    const start = strings + u16(b, r + 10);
    if (start + len > b.length) continue;
    const raw = b.subarray(start, start + len);
    // Windows and Unicode platforms store UTF-16BE; the Macintosh one a single-byte code.
    const text = platform === 1 ? raw.toString('latin1') : Buffer.from(raw.subarray(0, len & ~1)).swap16().toString('utf16le');
    if (platform === 3 || !found.has(nameId)) found.set(nameId, text);
  }
  const family = found.get(16) ?? found.get(1);
  if (family === undefined || family.trim() === '') throw new Error('font has no family name');
  return family.trim();
}

/** Reads what Pango needs to be asked for this font, and its line height per em. */
export function readFontFile(path: string, b: Buffer): FontFile {
  const t = tables(b);
  const head = t.get('head');
  const hhea = t.get('hhea');
  const name = t.get('name');
  if (!head || !hhea || !name) throw new Error('font lacks a head, hhea or name table');
  const unitsPerEm = u16(b, head[0] + 18);
  const ascent = b.readInt16BE(hhea[0] + 4);
  const descent = b.readInt16BE(hhea[0] + 6);
  if (unitsPerEm === 0 || ascent - descent <= 0) throw new Error('font has no usable vertical metrics');
  return { path, family: familyName(b, name), lineToEm: (ascent - descent) / unitsPerEm };
}

let bundled: Promise<FontFile> | null = null;

/** DejaVu Sans, the default. */
export function bundledFont(): Promise<FontFile> {
  bundled ??= (async () => {
    const path = join(bundledDir(), 'DejaVuSans.ttf');
    return readFontFile(path, await readFile(path));
  })();
  return bundled;
}

function candidates(name: string): string[] {
  return [
    `/usr/share/fonts/truetype/${name}.ttf`,
    `/usr/share/fonts/${name}.ttf`,
    `/usr/local/share/fonts/${name}.ttf`,
    `/usr/share/fonts/truetype/${name}/${name}.ttf`,
  ];
}

/** Found fonts by name; a font directory is operator territory and does not change under us. */
const found = new Map<string, Promise<FontFile>>();
const MAX_REMEMBERED = 256;

async function lookup(name: string): Promise<FontFile> {
  for (const path of candidates(name)) {
    try {
      return readFontFile(path, await readFile(path));
    } catch {
      // Not there or not a font: the next place, as PreviewProxy tries them.
    }
  }
  return bundledFont();
}

/** The font a watermark names: `sans` (or nothing, or a name with a path in it) is the bundled one. */
export function findFont(name: string): Promise<FontFile> {
  if (name === '' || name.toLowerCase() === 'sans' || /[/\\]|\.\./.test(name)) return bundledFont();
  let f = found.get(name);
  if (!f) {
    if (found.size >= MAX_REMEMBERED) found.clear();
    f = lookup(name);
    found.set(name, f);
  }
  return f;
}
