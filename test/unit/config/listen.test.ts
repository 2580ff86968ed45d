import { describe, expect, it } from 'vitest';
import { listenOptions, loadConfig, showAddress } from '../../../src/config/index.js';
import { parseHostPort, sameSocket } from '../../../src/config/listen.js';
import { configProblems } from '../../helpers/config.js';

const problems = configProblems;

describe('host:port, as Go\'s net.Listen reads it', () => {
  it.each([
    [':8080', { network: 'tcp', host: '', port: 8080 }],
    ['127.0.0.1:0', { network: 'tcp', host: '127.0.0.1', port: 0 }],
    ['localhost:9464', { network: 'tcp', host: 'localhost', port: 9464 }],
    ['[::1]:80', { network: 'tcp', host: '::1', port: 80 }],
    ['[::]:65535', { network: 'tcp', host: '::', port: 65535 }],
  ])('%s', (text, want) => {
    expect(parseHostPort(text)).toEqual(want);
  });

  it.each([
    ['localhost', /port is required/],
    ['9464', /port is required/],
    ['', /port is required/],
    ['::1:80', /IPv6 host in brackets/],
    ['host:', /expected a port from 0 to 65535, got ""/],
    ['host:http', /expected a port from 0 to 65535, got "http"/],
    ['host:65536', /expected a port from 0 to 65535/],
    ['host:-1', /expected a port/],
  ])('%j is refused', (text, why) => {
    expect(parseHostPort(text)).toMatch(why);
  });

  it('checks the family against tcp4 / tcp6', () => {
    expect(parseHostPort('[::1]:80', 'tcp4')).toMatch(/IPv4 host/);
    expect(parseHostPort('127.0.0.1:80', 'tcp6')).toMatch(/IPv6 host/);
    expect(parseHostPort('127.0.0.1:80', 'tcp4')).toEqual({ network: 'tcp4', host: '127.0.0.1', port: 80 });
  });
});

describe('the image server\'s address', () => {
  it('IMGPROXY_BIND wins over PORT and PP_PORT; PP_PORT over PORT', () => {
    expect(loadConfig({ IMGPROXY_BIND: '127.0.0.1:7000', PORT: '1' }).listen).toEqual({ network: 'tcp', host: '127.0.0.1', port: 7000 });
    expect(loadConfig({ PP_PORT: '7001', PORT: '7002' }).listen).toEqual({ network: 'tcp', host: '', port: 7001 });
  });

  it('IMGPROXY_NETWORK: tcp4 and tcp6 choose the family, unix makes the bind a socket path', () => {
    expect(loadConfig({ IMGPROXY_NETWORK: 'tcp4' }).listen).toEqual({ network: 'tcp4', host: '', port: 8080 });
    expect(loadConfig({ IMGPROXY_NETWORK: 'TCP6', IMGPROXY_BIND: '[::1]:81' }).listen).toEqual({ network: 'tcp6', host: '::1', port: 81 });
    expect(loadConfig({ IMGPROXY_NETWORK: 'unix', IMGPROXY_BIND: '/run/pixproxy.sock' }).listen).toEqual({ network: 'unix', path: '/run/pixproxy.sock' });
  });

  it('refuses a bind without a port, unix without a path, and unixpacket', () => {
    expect(problems({ IMGPROXY_BIND: 'localhost' })).toEqual(['IMGPROXY_BIND: expected host:port or :port (the port is required), got "localhost"']);
    expect(problems({ IMGPROXY_NETWORK: 'unix' })).toEqual(['IMGPROXY_BIND: expected the socket path with IMGPROXY_NETWORK=unix, got nothing']);
    expect(problems({ IMGPROXY_NETWORK: 'unixpacket', IMGPROXY_BIND: '/x' })).toEqual([expect.stringMatching(/^IMGPROXY_NETWORK: expected one of tcp, tcp4, tcp6, unix .*got "unixpacket"$/)]);
    expect(problems({ IMGPROXY_NETWORK: 'tcp4', IMGPROXY_BIND: '[::1]:80' })).toEqual(['IMGPROXY_BIND: expected an IPv4 host with IMGPROXY_NETWORK=tcp4, got "[::1]:80"']);
  });
});

describe('the metrics listener (IMGPROXY_PROMETHEUS_BIND)', () => {
  it('is null when unset and a typed address otherwise; `:port` is every interface, :0 a chosen random port', () => {
    expect(loadConfig({}).metricsListen).toBeNull();
    expect(loadConfig({ IMGPROXY_PROMETHEUS_BIND: ':9464' }).metricsListen).toEqual({ network: 'tcp', host: '', port: 9464 });
    expect(loadConfig({ PP_PROMETHEUS_BIND: '127.0.0.1:0' }).metricsListen).toEqual({ network: 'tcp', host: '127.0.0.1', port: 0 });
  });

  it('without a port stops startup (imgproxy\'s net.Listen fails the same way) instead of taking a random port', () => {
    expect(problems({ IMGPROXY_PROMETHEUS_BIND: '0.0.0.0' })).toEqual(['IMGPROXY_PROMETHEUS_BIND: expected host:port or :port (the port is required), got "0.0.0.0"']);
    expect(problems({ PP_PROMETHEUS_BIND: 'metrics' })).toEqual(['PP_PROMETHEUS_BIND: expected host:port or :port (the port is required), got "metrics"']);
  });

  it('may not claim the image server\'s port', () => {
    expect(problems({ IMGPROXY_PROMETHEUS_BIND: ':8080' })).toEqual(['IMGPROXY_PROMETHEUS_BIND: expected an address other than the image server\'s (:8080), got ":8080"']);
    expect(problems({ IMGPROXY_BIND: '127.0.0.1:9000', IMGPROXY_PROMETHEUS_BIND: ':9000' })).toHaveLength(1);
    expect(problems({ PP_PORT: '9100', IMGPROXY_PROMETHEUS_BIND: '127.0.0.1:9100' })).toHaveLength(1);
    expect(problems({ IMGPROXY_BIND: '127.0.0.1:9000', IMGPROXY_PROMETHEUS_BIND: '127.0.0.2:9000' })).toEqual([]);
    expect(problems({ IMGPROXY_BIND: '127.0.0.1:0', IMGPROXY_PROMETHEUS_BIND: '127.0.0.1:0' })).toEqual([]);
  });
});

describe('listenOptions and showAddress', () => {
  it('maps each network to Node\'s listen options', () => {
    expect(listenOptions({ network: 'tcp', host: '', port: 1 })).toEqual({ port: 1 });
    expect(listenOptions({ network: 'tcp4', host: '', port: 1 })).toEqual({ port: 1, host: '0.0.0.0' });
    expect(listenOptions({ network: 'tcp6', host: '', port: 1 })).toEqual({ port: 1, host: '::', ipv6Only: true });
    expect(listenOptions({ network: 'tcp', host: '127.0.0.1', port: 2 })).toEqual({ port: 2, host: '127.0.0.1' });
    expect(listenOptions({ network: 'unix', path: '/s' })).toEqual({ path: '/s' });
  });

  it('shows addresses as they are written', () => {
    expect(showAddress({ network: 'tcp', host: '::1', port: 80 })).toBe('[::1]:80');
    expect(showAddress({ network: 'tcp', host: '', port: 80 })).toBe(':80');
    expect(showAddress({ network: 'unix', path: '/s' })).toBe('/s');
  });

  it('sameSocket: a fixed port on overlapping hosts', () => {
    expect(sameSocket({ network: 'tcp', host: '', port: 80 }, { network: 'tcp', host: '10.0.0.1', port: 80 })).toBe(true);
    expect(sameSocket({ network: 'tcp', host: '10.0.0.2', port: 80 }, { network: 'tcp', host: '10.0.0.1', port: 80 })).toBe(false);
    expect(sameSocket({ network: 'unix', path: '/s' }, { network: 'tcp', host: '', port: 80 })).toBe(false);
  });
});
