/**
 * imgproxy's log formats (logger/formatter_json_test.go, formatter_structured_test.go,
 * formatter_pretty_test.go): level names, keys, quoting, nested objects flattened, the
 * error/source/stack fields last.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogFormat } from '../../../src/observability/logger.js';

function capture(format: LogFormat, level = 'debug') {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  return { logger: createLogger(level, dest, format), lines };
}

describe('IMGPROXY_LOG_FORMAT=json', () => {
  it('writes time (RFC 3339), imgproxy\'s level names and msg, and the fields', () => {
    const { logger, lines } = capture('json');
    logger.debug('d');
    logger.info({ string: 'value', int: -100, bool: true, nested: { a: 1 } }, 'Test message');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((r) => r.level)).toEqual(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);
    const info = recs[1] ?? {};
    expect(info.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(String(info.time)) - Date.now())).toBeLessThan(60_000);
    const { time: _t, ...rest } = info;
    expect(rest).toEqual({ level: 'INFO', msg: 'Test message', string: 'value', int: -100, bool: true, nested: { a: 1 } });
  });

  it('filters by level', () => {
    const { logger, lines } = capture('json', 'warn');
    logger.info('no');
    logger.warn('yes');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['yes']);
  });
});

describe('IMGPROXY_LOG_FORMAT=gcp', () => {
  it('uses severity and message, the keys Google Cloud Logging reads', () => {
    const { logger, lines } = capture('gcp');
    logger.warn({ request_id: 'x' }, 'Completed');
    const rec = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(rec.severity).toBe('WARNING');
    expect(rec.message).toBe('Completed');
    expect(rec.level).toBeUndefined();
    expect(rec.msg).toBeUndefined();
    expect(rec.request_id).toBe('x');
  });
});

describe('IMGPROXY_LOG_FORMAT=structured', () => {
  it('writes key="value" pairs: strings quoted, numbers bare, groups flattened, error and stack last', () => {
    const { logger, lines } = capture('structured');
    logger.info({ stack: 'at x\nat y', key1: 'value 1', n: 3, group: { k: 'v' }, error: 'boom' }, 'Test message');
    expect(lines[0]).toMatch(/^time="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d" level="INFO" msg="Test message" key1="value 1" n=3 group\.k="v" error="boom" stack="at x\\nat y"$/);
  });
});

describe('IMGPROXY_LOG_FORMAT=pretty', () => {
  it('writes `time [LVL] message key=value` with colours, quoting only what needs it', () => {
    const { logger, lines } = capture('pretty');
    logger.warn({ key: 'value', spaced: 'a b' }, 'Hello');
    const line = lines[0] ?? '';
    expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /);
    expect(line.slice(20)).toBe('\x1b[1;33m[WRN]\x1b[0m Hello \x1b[33mkey\x1b[0m=value \x1b[33mspaced\x1b[0m="a b"');
  });
});
