/**
 * Port of imgproxy's httpheaders/cdv_test.go (TestContentDispositionValue): the
 * Content-Disposition filename from the source URL, the `filename` option, the extension
 * and the content type, through `dispositionValue`, which takes imgproxy's arguments (processed
 * results and `raw` both call it).
 * https://github.com/imgproxy/imgproxy/blob/master/httpheaders/cdv_test.go
 */
import { describe, expect } from 'vitest';
import { dispositionValue } from '../../../../src/http/content-disposition.js';
import { ported } from '../harness.js';

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
    ported(`TestContentDispositionValue/${name}`, () => {
      expect(dispositionValue(url, filename, ext, contentType, attachment)).toBe(expected);
    });
  }
});
