// Content-Disposition over generated names: always a valid Node header, printable ASCII only,
// and the name comes back through an RFC 8187 decoder (or is imgproxy's exact quoted form).
import { validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanName, contentDisposition, rawContentDisposition } from '../../../src/http/content-disposition.js';

interface Parsed {
  type: string;
  filename: string;
  /** Decoded `filename*`, when present. */
  extended?: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** An independent reader of `type; filename="…"[; filename*=UTF-8''…]` (RFC 6266 §4.1, RFC 8187 §3.2). */
function parse(header: string): Parsed {
  const m = /^(inline|attachment); filename="((?:[^"\\]|\\.)*)"(?:; filename\*=([^;\s]*))?$/.exec(header);
  if (!m) throw new Error(`unparsable: ${header}`);
  const out: Parsed = { type: m[1] ?? '', filename: (m[2] ?? '').replace(/\\(.)/g, '$1') };
  if (m[3] !== undefined) {
    const ext = /^UTF-8''((?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*)$/.exec(m[3]);
    if (!ext) throw new Error(`bad ext-value: ${m[3]}`);
    const bytes = Buffer.from((ext[1] ?? '').replace(/%([0-9A-F]{2})/g, (_s, h: string) => String.fromCharCode(Number.parseInt(h, 16))), 'latin1');
    out.extended = UTF8.decode(bytes);
  }
  return out;
}

/** What a client sees as the file name. */
const shown = (p: Parsed): string => p.extended ?? p.filename;

const CONTROL = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

// Names from the whole of Unicode, with the troublemakers made likely.
const nasty = fc.constantFrom('日本', '😀', '\u202E', '\0', '\x7F', '\x85', 'é', '"', '\\', '%', ';', '\r\n', ' ', "'", '*', '=', 'ﬁ', '\uD800');
const nameArb = fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), nasty), { maxLength: 8 }).map((parts) => parts.join(''));

function checkHeader(header: string): Parsed {
  expect(() => validateHeaderValue('Content-Disposition', header)).not.toThrow();
  expect(header).toMatch(/^[\x20-\x7E]*$/);
  return parse(header);
}

describe('Content-Disposition', () => {
  it('imgproxy cases (httpheaders/cdv_test.go)', () => {
    expect(contentDisposition('', 'http://example.com/test.jpg', 'jpeg', false)).toBe('inline; filename="test.jpg"');
    expect(contentDisposition('', 'http://example.com/path/to/', 'png', false)).toBe('inline; filename="image.png"');
    expect(contentDisposition('example', 'http://example.com/path/to/', 'png', false)).toBe('inline; filename="example.png"');
    expect(contentDisposition('', 'http://example.com/path/to/face.png', 'jpeg', false)).toBe('inline; filename="face.jpg"');
    expect(contentDisposition('face', 'http://example.com/path/to/123.png', 'jpeg', false)).toBe('inline; filename="face.jpg"');
    expect(contentDisposition('', 'http://example.com/test.jpg', 'jpeg', true)).toBe('attachment; filename="test.jpg"');
    expect(contentDisposition('my"file', 'http://example.com/test.jpg', 'png', false)).toBe('inline; filename="my%22file.png"');
    expect(rawContentDisposition('my"file', 'http://example.com/test', 'image/png', false)).toBe('inline; filename="my%22file.png"');
  });

  it('raw keeps the URL extension, else takes the Content-Type one', () => {
    expect(rawContentDisposition('', 'http://x/a/photo.jpeg', 'image/png', false)).toBe('inline; filename="photo.jpeg"');
    expect(rawContentDisposition('', 'http://x/a/photo', 'image/webp; q=1', true)).toBe('attachment; filename="photo.webp"');
    expect(rawContentDisposition('', 'http://x/a/photo', 'image/x-unknown', false)).toBe('inline; filename="photo"');
    expect(rawContentDisposition('n', 'http://x/a/photo.gif', 'image/png', false)).toBe('inline; filename="n.gif"');
  });

  it('non-ASCII names get an ASCII fallback and a UTF-8 filename*', () => {
    expect(contentDisposition('', 'http://x/%E6%97%A5%E6%9C%AC.jpg', 'jpeg', false)).toBe(`inline; filename="__.jpg"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.jpg`);
    expect(contentDisposition('café', 'http://x/', 'png', true)).toBe(`attachment; filename="cafe.png"; filename*=UTF-8''caf%C3%A9.png`);
    expect(parse(contentDisposition('a\\b', 'http://x/', 'png', false))).toEqual({ type: 'inline', filename: 'a_b.png', extended: 'a\\b.png' });
  });

  it('control and bidi characters are removed; nothing left → `image`', () => {
    expect(contentDisposition('photo\u202Egpj.exe', 'http://x/', 'jpeg', false)).toBe('inline; filename="photogpj.exe.jpg"');
    expect(contentDisposition('\0\x7F\r\n', 'http://x/', 'jpeg', false)).toBe('inline; filename="image.jpg"');
    expect(contentDisposition('', 'http://x/%00%0A.png', 'webp', false)).toBe('inline; filename="image.webp"');
  });

  it('long names are cut at 200 code points without splitting a character', () => {
    const p = parse(contentDisposition('😀'.repeat(500), 'http://x/', 'png', false));
    expect(p.extended).toBe(`${'😀'.repeat(200)}.png`);
  });

  it('cleanName: the printable-ASCII shortcut gives what the code-point path gives', () => {
    const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
    const reference = (stem: string, ext: string): string => [...stem.replace(UNSAFE, '')].slice(0, 200).join('') + [...ext.replace(UNSAFE, '')].slice(0, 32).join('');
    const ascii = fc.string({ unit: fc.integer({ min: 0x1f, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 260 });
    fc.assert(
      fc.property(fc.oneof(ascii, nameArb), fc.oneof(ascii.map((e) => e.slice(0, 40)), fc.constantFrom('', '.jpg', '.png')), (stem, ext) => {
        expect(cleanName(stem, ext)).toBe(reference(stem, ext));
      }),
      { seed: 8187, numRuns: 3000 },
    );
  });

  it('any filename option: valid header, the cleaned name round-trips', () => {
    fc.assert(
      fc.property(nameArb, fc.boolean(), fc.constantFrom('jpeg', 'png', 'webp', 'avif'), (name, att, format) => {
        const p = checkHeader(contentDisposition(name, 'http://x/a.jpg', format, att));
        expect(p.type).toBe(att ? 'attachment' : 'inline');
        const ext = `.${format === 'jpeg' ? 'jpg' : format}`;
        const expected = cleanName(name, '') === '' ? `a${ext}` : cleanName(name, ext);
        const got = shown(p);
        // A plain ASCII name is imgproxy's quoted form, with `"` as %22; anything else is exact
        // (a lone surrogate, which UTF-8 cannot carry, comes back as U+FFFD).
        expect(got).toBe(p.extended === undefined ? expected.replace(/"/g, '%22') : Buffer.from(expected, 'utf8').toString('utf8'));
        expect(got).not.toMatch(CONTROL);
      }),
      { seed: 6266, numRuns: 2000 },
    );
  });

  it('any source URL path (plain or raw): valid header without control characters', () => {
    fc.assert(
      fc.property(nameArb, fc.boolean(), (name, raw) => {
        const source = `http://x/dir/${encodeURIComponent(name.replace(/[\uD800-\uDFFF]/g, ''))}`;
        const header = raw ? rawContentDisposition('', source, 'image/png', false) : contentDisposition('', source, 'png', false);
        expect(shown(checkHeader(header))).not.toMatch(CONTROL);
      }),
      { seed: 8187, numRuns: 2000 },
    );
  });
});
