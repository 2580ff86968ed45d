/**
 * Port of imgproxy's processing/svg/svg_test.go (TestSvg/TestSanitize): the sanitised form
 * of test1.svg, served through a real server (our stand-in has the same constructs; the
 * expected text follows imgproxy's test1.sanitized.svg rule by rule).
 * https://github.com/imgproxy/imgproxy/blob/master/processing/svg/svg_test.go
 */
import { describe, expect } from 'vitest';
import { TEST1_SVG_SANITIZED } from '../../fixtures.js';
import { gap } from '../../harness.js';
import { processingSuite } from '../suite.js';

const suite = processingSuite();

describe('TestSvg', () => {
  gap('issue 13 §6 SVG sanitiser: we drop the <foreignObject> content and the https <a href> that imgproxy keeps', 'TestSanitize', async () => {
    const out = await suite.process('q:0', 'test1.svg', { IMGPROXY_SANITIZE_SVG: 'true' });
    expect(out.toString().trim()).toBe(TEST1_SVG_SANITIZED.trim());
  });
});
