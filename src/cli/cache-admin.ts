/**
 * `pixproxy cache stats` and `pixproxy cache purge`: clients of the admin API (docs/admin.md)
 * of a running server, so a purge reaches that server's memory and, through the purge log,
 * every instance sharing its cache. The API's address is PIXPROXY_ADMIN_BIND (else the main
 * listen address under PIXPROXY_ADMIN_PATH_PREFIX) unless `--admin` names one; the secret is
 * PIXPROXY_ADMIN_SECRET.
 */
import type { Config } from '../config/index.js';
import { configFromEnvironment, parse, UsageError, type Command } from './command.js';
import { healthTarget } from './health.js';

/** The admin API's base URL for a local client, or null when the configuration turns it off. */
export function adminBase(config: Config): string | null {
  const a = config.adminListen;
  if (a) {
    const local = a.host === '' || a.host === '0.0.0.0' ? '127.0.0.1' : a.host === '::' ? '::1' : a.host;
    return `http://${local.includes(':') ? `[${local}]` : local}:${a.port}`;
  }
  if (config.admin.pathPrefix === '' || config.listen.network === 'unix') return null;
  // The main port's address as `pixproxy health` finds it, without its /health path.
  const main = new URL(healthTarget(config).url);
  return `${main.origin}${config.admin.pathPrefix}`;
}

/** One admin call; resolves the parsed JSON answer or rejects with the API's error message. */
export async function adminCall(base: string, secret: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10 * 60_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path}: status ${res.status}, not JSON`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error;
    throw new Error(`${path}: ${res.status} ${e?.code ?? ''} ${e?.message ?? ''}`.trim());
  }
  return json;
}

const ADMIN_OPTION = { admin: { type: 'string' } } as const;

function target(admin: string | undefined): { base: string; secret: string } {
  const config = configFromEnvironment();
  const base = admin ?? adminBase(config);
  if (base === null) throw new UsageError('the admin API is off (PIXPROXY_ADMIN_BIND / PIXPROXY_ADMIN_PATH_PREFIX): name its URL with --admin');
  if (config.admin.secret === '') throw new UsageError('PIXPROXY_ADMIN_SECRET is not set');
  return { base: base.replace(/\/+$/, ''), secret: config.admin.secret };
}

async function report(call: () => Promise<unknown>): Promise<number> {
  try {
    process.stdout.write(`${JSON.stringify(await call(), null, 2)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`pixproxy cache: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

export const stats: Command = {
  usage: ['pixproxy cache stats [--admin <url>]', '', '  --admin   the admin API (default: PIXPROXY_ADMIN_BIND, else the main port under PIXPROXY_ADMIN_PATH_PREFIX)'].join('\n'),
  async run(args) {
    const { values } = parse(args, ADMIN_OPTION, { min: 0, max: 0 });
    const t = target(values.admin);
    return report(() => adminCall(t.base, t.secret, '/stats'));
  },
};

const PURGE_KINDS = ['url', 'source', 'tag', 'prefix'] as const;

export const purge: Command = {
  usage: [
    'pixproxy cache purge (--url <image url> | --source <source url> | --tag <tag> | --prefix <key prefix> | --all) [--origin] [--admin <url>]',
    '',
    '  --url      one result: every variant of that image URL (either dialect, signature not needed)',
    '  --source   every result and /info answer of one source URL',
    '  --tag      every entry stored with that cache tag',
    '  --prefix   every entry whose key starts with this',
    '  --all      everything',
    '  --origin   the origin sub-store\'s copy of the source(s) too',
    '  --admin    the admin API (default: PIXPROXY_ADMIN_BIND, else the main port under PIXPROXY_ADMIN_PATH_PREFIX)',
    '',
    'Prints the answer: {id, at, purged: {l1, l2, origin}}.',
  ].join('\n'),
  async run(args) {
    const { values } = parse(
      args,
      { ...ADMIN_OPTION, url: { type: 'string' }, source: { type: 'string' }, tag: { type: 'string' }, prefix: { type: 'string' }, all: { type: 'boolean' }, origin: { type: 'boolean' } },
      { min: 0, max: 0 },
    );
    const named = [...PURGE_KINDS.filter((k) => values[k] !== undefined), ...(values.all ? ['all' as const] : [])];
    if (named.length !== 1) throw new UsageError(`expected exactly one of --url, --source, --tag, --prefix, --all, got ${named.length === 0 ? 'none' : named.map((n) => `--${n}`).join(' ')}`);
    const kind = named[0] as (typeof PURGE_KINDS)[number] | 'all';
    const body = { [kind]: kind === 'all' ? true : values[kind], ...(values.origin ? { origin: true } : {}) };
    const t = target(values.admin);
    return report(() => adminCall(t.base, t.secret, '/purge', body));
  },
};
