/**
 * Content-Disposition for images and `raw` streams, valid for any file name.
 *
 * The name follows imgproxy (httpheaders/cdv.go, https://github.com/imgproxy/imgproxy/blob/master/httpheaders/cdv.go):
 * the stem is the `filename` option, else the source URL's basename, else `image`; the
 * extension is the result's (processed) or the source URL's, else the Content-Type's (`raw`).
 * imgproxy writes the name raw inside quotes, which Node refuses outside Latin-1 and which
 * mis-decodes inside it, so the header is built per RFC 6266 §4.3
 * (https://www.rfc-editor.org/rfc/rfc6266#section-4.3): an ASCII `filename="…"` fallback and,
 * when the name is not plain printable ASCII, `filename*=UTF-8''…` (RFC 8187 §3.2.1,
 * https://www.rfc-editor.org/rfc/rfc8187#section-3.2.1). A plain ASCII name gives imgproxy's
 * exact header (`"` written as `%22`, as there). PreviewProxy sends no Content-Disposition.
 *
 * Control characters (C0, DEL, C1) and bidirectional formatting characters (U+202E can make
 * `photo\u202Egpj.exe` display as `photoexe.jpg`) are removed from the name first: they have
 * no place in a file name and are a spoofing tool. The result is always printable ASCII, so
 * Node's header validation can never throw on it (a throw there was a 500 on every request).
 */

import { MIME_TYPES, type ImageFormat, type OutputFormat } from '../formats.js';

/** Stems longer than this are cut (in code points): a header has no business being huge. */
const MAX_STEM = 200;
/** A longer "extension" from a URL is no extension (`a.<query-like junk>`): cut as well. */
const MAX_EXT = 32;

// Cc (C0, DEL, C1) and the bidi controls: LRM/RLM, ALM, LRE…RLO, LRI…PDI.
const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
// RFC 8187 attr-char, minus nothing: everything else is percent-encoded.
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;
// What may stand in a quoted-string as is: printable ASCII but `"` and `\`.
const QDTEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

// Printable ASCII: nothing UNSAFE, one code point per character.
const PRINTABLE = /^[\x20-\x7E]*$/;

/** Removes control and bidi-format characters; cuts the stem at MAX_STEM code points. */
export function cleanName(stem: string, ext: string): string {
  // The usual name, as it is (the general path below splits it into code points: a few µs per L2 hit).
  if (stem.length <= MAX_STEM && ext.length <= MAX_EXT && PRINTABLE.test(stem) && PRINTABLE.test(ext)) return stem + ext;
  const s = [...stem.replace(UNSAFE, '')].slice(0, MAX_STEM).join('');
  return s + [...ext.replace(UNSAFE, '')].slice(0, MAX_EXT).join('');
}

/** RFC 8187 ext-value: UTF-8 bytes, attr-char kept, the rest `%XX` (lone surrogates → U+FFFD). */
function extValue(name: string): string {
  let out = "UTF-8''";
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** ASCII stand-in: accents dropped (é → e), `"` as imgproxy's `%22`, anything else non-ASCII → `_`. */
function asciiFallback(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/"/g, '%22')
    .replace(/[^\x20-\x7E]|\\/gu, '_');
}

/** The header for a cleaned name: imgproxy's form when it is plain ASCII, RFC 6266 otherwise. */
export function dispositionHeader(name: string, attachment: boolean): string {
  const type = attachment ? 'attachment' : 'inline';
  const quoted = name.replace(/"/g, '%22');
  if (QDTEXT.test(quoted)) return `${type}; filename="${quoted}"`;
  return `${type}; filename="${asciiFallback(name)}"; filename*=${extValue(name)}`;
}

/** The source URL's basename, percent-decoded when that is valid UTF-8; '' when there is none. */
function sourceBasename(source: string): string {
  let path = source;
  try {
    path = new URL(source).pathname;
  } catch {
    // not a URL we can parse: use the raw string
  }
  const base = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(base);
  } catch {
    return base;
  }
}

/** `a.b.jpg` → [`a.b`, `.jpg`]; a leading dot is part of the stem (`.hidden`), as in Go's filepath.Ext. */
function splitExt(base: string): [string, string] {
  const dot = base.lastIndexOf('.');
  return dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
}

const EXTENSIONS: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif', gif: 'gif', tiff: 'tiff', svg: 'svg', jxl: 'jxl', bmp: 'bmp', ico: 'ico', heic: 'heic', pdf: 'pdf',
  psd: 'psd', mp4: 'mp4', mov: 'mov', webm: 'webm', mkv: 'mkv', avi: 'avi',
};

const EXT_BY_MIME: ReadonlyMap<string, string> = new Map(
  (Object.keys(MIME_TYPES) as ImageFormat[]).map((f) => [MIME_TYPES[f], `.${EXTENSIONS[f]}`]),
);

interface DispositionInput {
  /** The `filename` option ('' = none): replaces the stem only. */
  readonly filename: string;
  readonly source: string;
  /** `.jpg`: the extension to use whatever the URL says; '' = the URL's, else `typeExt`. */
  readonly ext: string;
  /** `.png`: used when neither `ext` nor the URL gives one (`raw`: from the Content-Type). */
  readonly typeExt?: string;
  readonly attachment: boolean;
}

function disposition(input: DispositionInput): string {
  const [urlStem, urlExt] = splitExt(sourceBasename(input.source));
  const ext = input.ext !== '' ? input.ext : urlExt !== '' ? urlExt : (input.typeExt ?? '');
  // A stem made only of removed characters counts as none: the next candidate is used.
  const stem = [input.filename, urlStem, 'image'].find((s) => cleanName(s, '') !== '') ?? 'image';
  return dispositionHeader(cleanName(stem, ext), input.attachment);
}

/**
 * imgproxy's ContentDispositionValue, argument for argument: `ext` (`.png`) wins, else the
 * source URL's, else the one of `contentType` (parameters ignored), else none.
 */
export function dispositionValue(source: string, filename: string, ext: string, contentType: string, attachment: boolean): string {
  const mime = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return disposition({ filename, source, ext, typeExt: EXT_BY_MIME.get(mime) ?? '', attachment });
}

/** A processed result: the stem from `filename` or the source, the extension of `format`. */
export function contentDisposition(filename: string, source: string, format: OutputFormat, attachment: boolean): string {
  return dispositionValue(source, filename, `.${EXTENSIONS[format]}`, '', attachment);
}

/** A `raw` stream (imgproxy handlers/stream/handler.go): no extension of its own, the origin's type. */
export function rawContentDisposition(filename: string, source: string, contentType: string, attachment: boolean): string {
  return dispositionValue(source, filename, '', contentType, attachment);
}
