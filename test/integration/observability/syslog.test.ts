/**
 * IMGPROXY_SYSLOG_*: log lines reach a real syslog receiver on loopback (UDP and TCP), in Go
 * log/syslog's network format (`<PRI>RFC3339 host tag[pid]: line`), with the record's
 * severity, filtered by IMGPROXY_SYSLOG_LEVEL; what cannot work stops startup saying why.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogOutput } from '../../../src/observability/logger.js';
import { openSyslog, syslogConfigProblem } from '../../../src/observability/syslog.js';
import { spawnServer } from '../../helpers/process.js';

const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
};

describe('syslog', () => {
  it('UDP: one datagram per line, severity from the level, lines below IMGPROXY_SYSLOG_LEVEL left out', async () => {
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (m) => got.push(m.toString()));
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const { port } = udp.address();
    const writer = await openSyslog({ network: 'udp', address: `127.0.0.1:${port}`, tag: 'imgproxy' });
    const out = createLogOutput({ level: 'silent', format: 'json', syslog: { writer, level: 30 } });
    try {
      out.logger.debug('not sent');
      out.logger.info({ request_id: 'r1' }, 'hello');
      out.logger.warn('careful');
      out.logger.error('broken');
      await waitFor(() => got.length >= 3);
    } finally {
      await out.close();
      udp.close();
    }
    expect(got).toHaveLength(3);
    expect(got[0]).toMatch(new RegExp(`^<6>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(Z|[+-]\\d\\d:\\d\\d) \\S+ imgproxy\\[${process.pid}\\]: \\{.*"msg":"hello".*\\}\\n$`));
    expect(got[0]).toContain('"request_id":"r1"');
    expect(got[1]?.startsWith('<4>')).toBe(true);
    expect(got[2]?.startsWith('<3>')).toBe(true);
  });

  it('TCP: lines in order on one stream, in the configured format, even below the stdout level', async () => {
    const lines: string[] = [];
    const server = createServer((s) => {
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          lines.push(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const writer = await openSyslog({ network: 'tcp', address: `127.0.0.1:${port}`, tag: 'thumbs' });
    // stdout takes warn and above only; syslog wants info.
    const out = createLogOutput({ level: 'warn', format: 'structured', syslog: { writer, level: 30 } });
    try {
      for (let i = 0; i < 5; i++) out.logger.info({ i }, 'line');
      await waitFor(() => lines.length >= 5);
    } finally {
      await out.close();
      server.close();
    }
    expect(lines).toHaveLength(5);
    lines.forEach((l, i) => expect(l).toMatch(new RegExp(`^<6>\\S+ \\S+ thumbs\\[\\d+\\]: time="[^"]+" level="INFO" msg="line" i=${i}$`)));
  });

  it('what cannot work is refused with the reason', async () => {
    expect(syslogConfigProblem({ network: 'unixgram', address: '/dev/log', tag: 'x' })).toMatch(/IMGPROXY_SYSLOG_NETWORK: unixgram sockets cannot be opened from Node\.js/);
    expect(syslogConfigProblem({ network: 'udp', address: '', tag: 'x' })).toMatch(/IMGPROXY_SYSLOG_ADDRESS: syslog address is required/);
    expect(syslogConfigProblem({ network: 'tcp', address: 'nohost', tag: 'x' })).toMatch(/expected host:port/);
    expect(syslogConfigProblem({ network: 'carrier-pigeon', address: 'a:1', tag: 'x' })).toMatch(/expected one of udp/);
    expect(syslogConfigProblem({ network: 'udp', address: '127.0.0.1:514', tag: 'x' })).toBeNull();
  });

  it('a server whose syslog daemon cannot be reached does not start, and says why', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(spawnServer({ IMGPROXY_SYSLOG_ENABLE: 'true', IMGPROXY_SYSLOG_NETWORK: 'tcp', IMGPROXY_SYSLOG_ADDRESS: `127.0.0.1:${port}` })).rejects.toThrow(/exited with 1[\s\S]*IMGPROXY_SYSLOG_ADDRESS: cannot connect to the syslog daemon/);
  }, 60_000);
});
