/**
 * `pixproxy health`: exit code 0 when the server's `/health` answers 200 on the configured
 * listen address (IMGPROXY_BIND / PP_PORT, behind IMGPROXY_PATH_PREFIX), 1 otherwise. Made for
 * container health checks (deploy/Dockerfile's HEALTHCHECK), so it needs nothing but Node.
 */
import { get } from 'node:http';
import type { Config } from '../config/index.js';
import { configFromEnvironment, parse, UsageError, type Command } from './command.js';

/** What a local client asks: a URL, and the socket path when the server listens on a unix socket. */
export interface HealthTarget {
  url: string;
  socketPath?: string;
}

/** Where a local client reaches the server: wildcard listen addresses become loopback. */
export function healthTarget(config: Config): HealthTarget {
  const path = `${config.server.pathPrefix}/health`;
  const listen = config.listen;
  if (listen.network === 'unix') return { url: `http://localhost${path}`, socketPath: listen.path };
  const { host, port } = listen;
  const local = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const authority = local.includes(':') ? `[${local}]` : local;
  return { url: `http://${authority}:${port}${path}` };
}

/** Resolves the status code, or an error message when no answer came within `timeoutMs`. */
export function probe(target: HealthTarget, timeoutMs: number): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const options = { timeout: timeoutMs, headers: { 'user-agent': 'pixproxy-health' }, ...(target.socketPath ? { socketPath: target.socketPath } : {}) };
    const req = get(target.url, options, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', (err) => resolve({ error: err.message }));
  });
}

export const command: Command = {
  usage: [
    'pixproxy health [--url <url>] [--timeout <seconds>]',
    '',
    '  --url       what to ask instead of /health on the configured listen address',
    '  --timeout   seconds to wait for the answer (default 5)',
  ].join('\n'),
  async run(args) {
    const { values } = parse(args, { url: { type: 'string' }, timeout: { type: 'string' } }, { min: 0, max: 0 });
    const seconds = Number(values.timeout ?? '5');
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout: expected a positive number of seconds, got ${JSON.stringify(values.timeout)}`);
    const target = values.url !== undefined ? { url: values.url } : healthTarget(configFromEnvironment());
    const result = await probe(target, seconds * 1000);
    if ('status' in result && result.status === 200) return 0;
    process.stderr.write(`pixproxy health: ${target.url}: ${'status' in result ? `status ${result.status}` : result.error}\n`);
    return 1;
  },
};
