/**
 * Source format detection from magic bytes only. The origin's Content-Type is never trusted:
 * a wrong or hostile one must not pick the decoder (imgproxy and Next.js sniff too).
 *
 * Two-byte signatures (JXL codestream, BMP, ICO) are weak on their own, so where the format
 * has a cheap structural check (BMP's DIB header size, ICO's entry count) we add it; the
 * decoder remains the final judge.
 *
 * Video containers are recognised as PreviewProxy's `is_video_magic` does (src/modules/proxy/
 * video.rs, https://github.com/ViGrise/previewproxy): an ISO-BMFF `ftyp` box that no image
 * brand claims (MP4, or MOV by its `qt  ` brand), EBML (WebM by its DocType, else Matroska),
 * RIFF `AVI `. The format picks ffmpeg's demuxer, so a file is never probed as something else.
 */
import type { ImageFormat } from '../formats.js';

/** How far into a text file we look for the `<svg` root element. */
export const SVG_SCAN_LIMIT = 32 * 1024;
/** How many compatible brands of an ISO-BMFF `ftyp` box we read at most. */
const MAX_FTYP_BYTES = 256;

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
/** Generic HEIF brands: the compatible list says which codec is inside. */
const HEIF_GENERIC_BRANDS = new Set(['mif1', 'msf1', 'miaf']);

function startsWith(buf: Buffer, sig: readonly number[], at = 0): boolean {
  if (buf.length < at + sig.length) return false;
  return sig.every((b, i) => buf[at + i] === b);
}

function ascii(buf: Buffer, from: number, to: number): string {
  return buf.toString('latin1', from, to);
}

/** Photoshop: `8BPS`, version 1 (PSD) or 2 (PSB, the large document format). */
function detectPsd(buf: Buffer): boolean {
  return buf.length >= 26 && ascii(buf, 0, 4) === '8BPS' && (buf.readUInt16BE(4) === 1 || buf.readUInt16BE(4) === 2);
}

/** How far into an EBML header we look for its DocType element. */
const EBML_SCAN = 64;

/** Matroska or WebM: the EBML magic, then the DocType (element 0x4282) says which. */
function detectEbml(buf: Buffer): 'webm' | 'mkv' | null {
  if (!startsWith(buf, [0x1a, 0x45, 0xdf, 0xa3])) return null;
  const head = buf.subarray(0, Math.min(buf.length, EBML_SCAN));
  const at = head.indexOf(Buffer.from([0x42, 0x82]));
  // The DocType's size is one EBML varint byte (0x80 | n) for these short strings.
  const size = at >= 0 ? (head[at + 2] ?? 0) & 0x7f : 0;
  return at >= 0 && ascii(head, at + 3, at + 3 + size) === 'webm' ? 'webm' : 'mkv';
}

function detectFtyp(buf: Buffer): ImageFormat | null {
  if (buf.length < 8 || ascii(buf, 4, 8) !== 'ftyp') return null;
  // Too short to name a brand (PreviewProxy still calls it a video): ffmpeg is the judge.
  if (buf.length < 16) return 'mp4';
  const boxSize = buf.readUInt32BE(0);
  if (boxSize < 16) return 'mp4';
  const major = ascii(buf, 8, 12);
  const end = Math.min(boxSize, buf.length, MAX_FTYP_BYTES);
  const compatible: string[] = [];
  for (let i = 16; i + 4 <= end; i += 4) compatible.push(ascii(buf, i, i + 4));

  if (AVIF_BRANDS.has(major)) return 'avif';
  if (HEIC_BRANDS.has(major)) return 'heic';
  if (compatible.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (compatible.some((b) => HEIC_BRANDS.has(b))) return 'heic';
  // A bare mif1/msf1 HEIF without a codec brand: libheif's territory, like imgproxy.
  if (HEIF_GENERIC_BRANDS.has(major)) return 'heic';
  // Any other ftyp (mp4, m4v, 3gp, QuickTime…) is a video container.
  return major === 'qt  ' ? 'mov' : 'mp4';
}

function detectBmp(buf: Buffer): boolean {
  if (buf.length < 18 || buf[0] !== 0x42 || buf[1] !== 0x4d) return false;
  // The DIB header size identifies the BMP variant; "BM" alone matches plain text.
  return [12, 16, 40, 52, 56, 64, 108, 124].includes(buf.readUInt32LE(14));
}

function detectIco(buf: Buffer): boolean {
  if (buf.length < 22 || !startsWith(buf, [0x00, 0x00, 0x01, 0x00])) return false;
  const count = buf.readUInt16LE(4);
  // First directory entry: byte 9 is reserved (0); planes (10–11) is 0 or 1.
  return count > 0 && buf[9] === 0 && buf.readUInt16LE(10) <= 1;
}

/**
 * The first SVG_SCAN_LIMIT bytes as text: UTF-16 (told by its byte-order mark, as imgproxy's
 * xmlparser/decoder.go does) decoded, anything else byte for byte (the markup is ASCII).
 */
function svgHead(buf: Buffer): string {
  const head = buf.subarray(0, Math.min(buf.length, SVG_SCAN_LIMIT));
  if (head[0] === 0xff && head[1] === 0xfe) return new TextDecoder('utf-16le').decode(head.subarray(2));
  if (head[0] === 0xfe && head[1] === 0xff) return new TextDecoder('utf-16be').decode(head.subarray(2));
  return ascii(head, 0, head.length);
}

/** Skips an XML prolog (BOM, declaration, processing instructions, comments, doctype) and checks that the root element is `svg`. */
function detectSvg(buf: Buffer): boolean {
  const text = svgHead(buf);
  let i = text.startsWith('\xef\xbb\xbf') ? 3 : 0;
  const skipWs = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i] ?? '')) i++;
  };
  while (i < text.length) {
    skipWs();
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end === -1) return false;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) return false;
      i = end + 3;
    } else if (text.slice(i, i + 9).toUpperCase() === '<!DOCTYPE') {
      // The doctype may carry an internal subset in [...] whose declarations contain '>'.
      let depth = 0;
      let j = i + 9;
      for (; j < text.length; j++) {
        const c = text[j];
        if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (c === '>' && depth <= 0) break;
      }
      if (j >= text.length) return false;
      i = j + 1;
    } else if (text[i] === '<') {
      const m = /^<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(?=[\s/>])/.exec(text.slice(i, i + 256));
      return m?.[2] === 'svg';
    } else {
      return false;
    }
  }
  return false;
}

export function detectImageFormat(buf: Buffer): ImageFormat | null {
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (buf.length >= 6 && (ascii(buf, 0, 6) === 'GIF87a' || ascii(buf, 0, 6) === 'GIF89a')) return 'gif';
  if (buf.length >= 12 && ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'WEBP') return 'webp';
  if (startsWith(buf, [0xff, 0x0a])) return 'jxl';
  if (startsWith(buf, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) return 'jxl';
  const ftyp = detectFtyp(buf);
  if (ftyp) return ftyp;
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  if (startsWith(buf, [0x49, 0x49, 0x2a, 0x00]) || startsWith(buf, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(buf, [0x49, 0x49, 0x2b, 0x00]) || startsWith(buf, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  if (buf.length >= 5 && ascii(buf, 0, 5) === '%PDF-') return 'pdf';
  if (detectPsd(buf)) return 'psd';
  const ebml = detectEbml(buf);
  if (ebml) return ebml;
  if (buf.length >= 12 && ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'AVI ') return 'avi';
  if (detectBmp(buf)) return 'bmp';
  if (detectIco(buf)) return 'ico';
  if (detectSvg(buf)) return 'svg';
  return null;
}
