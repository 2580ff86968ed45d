/**
 * `pixproxy health`: exit code 0 when the server's `/health` answers 200 on the configured
 * listen address (IMGPROXY_BIND / PP_PORT, behind IMGPROXY_PATH_PREFIX), 1 otherwise. Made for
 * container health checks (deploy/Dockerfile's HEALTHCHECK), so it needs nothing but Node.
 */
import { get } from 'node:http';
import type { Config } from '../config/index.js';
import { configFromEnvironment, parse, UsageError, type Command } from './command.js';

/** The URL a local client reaches the server on: wildcard listen addresses become loopback. */
export function healthUrl(config: Config): string {
  const { host, port } = config.listen;
  const local = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const authority = local.includes(':') ? `[${local}]` : local;
  return `http://${authority}:${port}${config.server.pathPrefix}/health`;
}

/** Resolves the status code, or an error message when no answer came within `timeoutMs`. */
export function probe(url: string, timeoutMs: number): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: timeoutMs, headers: { 'user-agent': 'pixproxy-health' } }, (res) => {
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
    const url = values.url ?? healthUrl(configFromEnvironment());
    const result = await probe(url, seconds * 1000);
    if ('status' in result && result.status === 200) return 0;
    process.stderr.write(`pixproxy health: ${url}: ${'status' in result ? `status ${result.status}` : result.error}\n`);
    return 1;
  },
};
