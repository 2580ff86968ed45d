/**
 * The nginx balancer in front of pixproxy instances, written once for every place that runs
 * it: the local cluster (deploy/local/cluster.ts, and the cluster test) and the compose
 * recipe's deploy/nginx/pixproxy.conf, which `npx tsx deploy/local/main.ts nginx-conf --write`
 * regenerates (test/unit/deploy checks that it is current).
 *
 * Why these directives:
 * - `hash $request_uri consistent` (ketama): every URL goes to one instance, so its L1 and its
 *   single-flight hold for the whole cluster, and adding or removing an instance moves only
 *   about 1/N of the keys (https://nginx.org/en/docs/http/ngx_http_upstream_module.html#hash).
 * - `proxy_next_upstream error timeout`: a request whose instance refused the connection, reset
 *   it (`kill -9`) or never answered is sent to the next instance on the ring; nginx can only do
 *   so until the first response byte went to the client. Never on an HTTP status: pixproxy's
 *   502/503/504 are answers about the source or its own time limit, and another instance would
 *   only repeat them (https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_next_upstream).
 * - `max_fails=1 fail_timeout=2s`: one failure takes the instance out of the ring for 2 s, then
 *   nginx tries it again; its keys go to the next instance meanwhile, which finds them in the L2.
 * - keep-alive to the instances (`keepalive`, HTTP/1.1, no `Connection` header passed on).
 * - `/metrics` is per instance, scraped directly, not through the balancer.
 */

export interface NginxSite {
  /** Upstream name (also names the site in comments). */
  name: string;
  /** `listen` argument: `8080`, `127.0.0.1:18080`. */
  listen: string;
  /** `hash`: consistent hashing on the URL; `round-robin`: nginx's default spread (the lease's case). */
  balance: 'hash' | 'round-robin';
  /** `host:port` of each instance. */
  servers: readonly string[];
  /** Adds `X-Upstream: <instance address>` to responses (local and test clusters only). */
  debugHeader?: boolean;
  /** Seconds nginx waits for an instance's response header before trying the next one. */
  readTimeoutSecs?: number;
}

/** The `upstream` and `server` blocks of one site (http context). */
export function nginxSite(s: NginxSite): string {
  const lines = [
    `upstream ${s.name} {`,
    ...(s.balance === 'hash' ? ['    hash $request_uri consistent;'] : ['    # round-robin: any instance may get any key; PIXPROXY_CACHE_LEASE keeps one computation per key']),
    ...s.servers.map((addr) => `    server ${addr} max_fails=1 fail_timeout=2s;`),
    '    keepalive 64;',
    '}',
    '',
    'server {',
    `    listen ${s.listen};`,
    '    location = /metrics { return 404; }',
    '    location / {',
    `        proxy_pass http://${s.name};`,
    '        proxy_http_version 1.1;',
    '        proxy_set_header Connection "";',
    '        proxy_set_header Host $host;',
    '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '        proxy_next_upstream error timeout;',
    '        proxy_next_upstream_tries 3;',
    '        proxy_connect_timeout 1s;',
    // Above IMGPROXY_TIMEOUT (10 s): an instance that is merely slow answers 503 itself.
    `        proxy_read_timeout ${s.readTimeoutSecs ?? 15}s;`,
    ...(s.debugHeader ? ['        add_header X-Upstream $upstream_addr always;'] : []),
    '    }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** deploy/nginx/pixproxy.conf: the compose recipe's balancer (nginx image, conf.d). */
export function composeNginxConf(): string {
  const site = nginxSite({ name: 'pixproxy', listen: '8080', balance: 'hash', servers: ['pixproxy-1:8080', 'pixproxy-2:8080', 'pixproxy-3:8080'] });
  return `# Written by \`npx tsx deploy/local/main.ts nginx-conf --write\` (deploy/local/nginx-config.ts): edit there.\n# nginx in front of the pixproxy instances of deploy/compose.cluster.yaml; see docs/scaling.md.\n${site}`;
}

/**
 * A whole nginx.conf for a scratch directory: foreground, its own pid, logs and temp paths, and
 * `http` holding the given directives (also the benchmark's static baseline, bench/nginx.ts).
 */
export function nginxScratchConf(dir: string, http: string, opts: { workers?: number; connections?: number; modules?: readonly string[] } = {}): string {
  // Started as root, nginx runs its workers as `nobody`, who could not write the temp paths here.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  // Dynamic modules (the benchmark's image_filter) load in the main context, before anything uses them.
  const modules = (opts.modules ?? []).map((m) => `load_module ${m};\n`).join('');
  return `# written by deploy/local/nginx-config.ts
${modules}${user}worker_processes ${opts.workers ?? 1};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${opts.connections ?? 4096}; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${http}}
`;
}

/** The balancer's nginx.conf: the sites in a scratch directory. */
export function nginxMainConf(dir: string, sites: readonly NginxSite[]): string {
  return nginxScratchConf(dir, sites.map(nginxSite).join('\n'));
}
