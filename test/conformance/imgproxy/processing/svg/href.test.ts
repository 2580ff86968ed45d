/**
 * Port of imgproxy's processing/svg/href_test.go (TestIsSafeHref): which link targets the
 * sanitiser keeps on `<a href>` (generic schemes) and `<image href>` (data: images too).
 * Checked on our sanitiser's output: a kept value survives, a rejected one is removed.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/svg/href_test.go
 */
import { describe, expect } from 'vitest';
import { sanitizeSvg } from '../../../../../src/processing/svg-sanitize.js';
import { ported } from '../../harness.js';

const escape = (v: string) => v.replace(/&(?![a-z#0-9]+;)/gi, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\n/g, '&#10;');

function kept(element: 'a' | 'image', value: string): boolean {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><${element} href="${escape(value)}"/></svg>`;
  const out = sanitizeSvg(Buffer.from(svg)).toString();
  return /href=/.test(out);
}

describe('TestIsSafeHref', () => {
  const cases: [string, string, 'a' | 'image', boolean][] = [
    ['empty', '', 'a', true],
    ['fragment', '#test', 'a', true],
    ['relative path', 'foo/bar.svg', 'a', true],
    ['absolute path relative url', '/foo/bar.svg', 'a', true],
    ['protocol-relative', '//evil.com/x', 'a', true],
    ['https allowed', 'https://example.com', 'a', true],
    ['http allowed', 'http://example.com', 'a', true],
    ['javascript rejected', 'javascript:alert(1)', 'a', false],
    ['javascript uppercase', 'JavaScript:alert(1)', 'a', false],
    ['javascript mixed case', 'jAvAsCriPt:alert(1)', 'a', false],
    ['leading newline', '\njavascript:alert(1)', 'a', false],
    ['vbscript rejected', 'vbscript:msgbox(1)', 'a', false],
    ['data rejected for generic', 'data:text/html,<script>alert(1)</script>', 'a', false],
    ['mailto rejected', 'mailto:test@example.com', 'a', false],
    ['ftp rejected', 'ftp://example.com/file', 'a', false],
    ['numeric entity scheme', 'jav&#97;script:alert(1)', 'a', false],
    ['hex numeric entity scheme', 'jav&#x61;script:alert(1)', 'a', false],
    ['named entity colon', 'javascript&colon;alert(1)', 'a', false],
    ['data allowed for image', 'data:image/png;base64,AAAA', 'image', true],
    ['javascript still rejected for image', 'javascript:alert(1)', 'image', false],
  ];
  for (const [name, value, element, safe] of cases) {
    ported(`TestIsSafeHref/${name}`, () => expect(kept(element, value)).toBe(safe));
  }
});
