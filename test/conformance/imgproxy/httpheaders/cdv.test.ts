/**
 * Port of imgproxy's httpheaders/cdv_test.go (TestContentDispositionValue): the
 * Content-Disposition filename from the source URL, the `filename` option, the extension
 * and the content type. imgproxy's function takes an extension; ours takes the output
 * format, which is what every caller has (an empty extension falls back to the source's).
 * https://github.com/imgproxy/imgproxy/blob/master/httpheaders/cdv_test.go
 */
import { describe, expect } from 'vitest';
import { contentDisposition } from '../../../../src/http/headers.js';
import type { OutputFormat } from '../../../../src/options.js';
import { port } from '../harness.js';

const FORMATS: Record<string, OutputFormat> = { '.png': 'png', '.jpg': 'jpeg', 'image/png': 'png' };
const NO_EXT = 'issue 13 §3 raw Content-Disposition: with neither an extension nor a content type we still name a format (`image.jpg`), imgproxy answers `filename="image"`';

describe('TestContentDispositionValue', () => {
  const cases: [string, string, string, string, string, boolean, string][] = [
    ['BasicURL', 'http://example.com/test.jpg', '', '', '', false, 'inline; filename="test.jpg"'],
    ['EmptyFilename', 'http://example.com/path/to/', '', '', '', false, 'inline; filename="image"'],
    ['EmptyFilenameWithExt', 'http://example.com/path/to/', '', '.png', '', false, 'inline; filename="image.png"'],
    ['EmptyFilenameWithFilenameAndExt', 'http://example.com/path/to/', 'example', '.png', '', false, 'inline; filename="example.png"'],
    ['EmptyFilenameWithFilenameOverride', 'http://example.com/path/to/', 'example', '.jpg', '', false, 'inline; filename="example.jpg"'],
    ['PresentFilenameWithExtOverride', 'http://example.com/path/to/face.png', '', '.jpg', '', false, 'inline; filename="face.jpg"'],
    ['PresentFilenameWithFilenameOverride', 'http://example.com/path/to/123.png', 'face', '.jpg', '', false, 'inline; filename="face.jpg"'],
    ['EmptyFilenameWithFallback', 'http://example.com/path/to/', '', '.png', '', false, 'inline; filename="image.png"'],
    ['AttachmentDisposition', 'http://example.com/test.jpg', '', '', '', true, 'attachment; filename="test.jpg"'],
    ['FilenameWithQuotes', 'http://example.com/test.jpg', 'my"file', '.png', '', false, 'inline; filename="my%22file.png"'],
    ['FilenameWithContentType', 'http://example.com/test', 'my"file', '', 'image/png', false, 'inline; filename="my%22file.png"'],
  ];
  for (const [name, url, filename, ext, contentType, attachment, expected] of cases) {
    const format = FORMATS[ext] ?? FORMATS[contentType] ?? (url.endsWith('.jpg') ? 'jpeg' : undefined);
    port(`TestContentDispositionValue/${name}`, format === undefined ? NO_EXT : undefined, () => {
      expect(contentDisposition(filename, url, format ?? 'jpeg', attachment)).toBe(expected);
    });
  }
});
