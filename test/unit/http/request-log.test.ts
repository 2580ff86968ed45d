import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientIp, goDuration } from '../../../src/http/request-log.js';

describe('request log', () => {
  it('prints durations as Go\'s time.Duration does (imgproxy\'s "Completed in …")', () => {
    expect(goDuration(0)).toBe('0s');
    expect(goDuration(0.0005)).toBe('500ns');
    expect(goDuration(0.85)).toBe('850µs');
    expect(goDuration(1.5)).toBe('1.5ms');
    expect(goDuration(12.345678)).toBe('12.345678ms');
    expect(goDuration(2250)).toBe('2.25s');
    expect(goDuration(62_500)).toBe('1m2.5s');
    expect(goDuration(3_600_000)).toBe('1h0m0s');
  });

  it('takes the client address as imgproxy does: CF-Connecting-IP, X-Forwarded-For\'s first, X-Real-IP, the peer', () => {
    const req = (headers: Record<string, string>) => ({ headers, socket: { remoteAddress: '10.0.0.9' } }) as unknown as IncomingMessage;
    expect(clientIp(req({ 'cf-connecting-ip': '1.1.1.1', 'x-forwarded-for': '2.2.2.2' }))).toBe('1.1.1.1');
    expect(clientIp(req({ 'x-forwarded-for': ' 2.2.2.2 , 3.3.3.3', 'x-real-ip': '4.4.4.4' }))).toBe('2.2.2.2');
    expect(clientIp(req({ 'x-real-ip': '4.4.4.4' }))).toBe('4.4.4.4');
    expect(clientIp(req({}))).toBe('10.0.0.9');
  });
});
