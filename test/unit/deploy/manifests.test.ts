/**
 * The deployment recipes users copy, checked without a container engine or a cluster: the
 * Kubernetes manifest and the compose file parse, their probes, ports and selectors agree,
 * their environment loads as a pixproxy configuration, the termination budget covers the
 * drain and the graceful stop; nginx's conf.d file is the one deploy/local/nginx-config.ts
 * writes, and nginx itself accepts the configuration (`nginx -t`) when it is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { composeNginxConf, nginxMainConf } from '../../../deploy/local/nginx-config.js';
import { loadConfig } from '../../../src/config/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** `a.b.0.c` into parsed YAML. */
const at = (v: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (Array.isArray(o) ? o[Number(k)] : obj(o)[k]), v);

/** Placeholders the user replaces, with values a configuration accepts. */
function filled(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === 'REPLACE_ME' ? (k.startsWith('IMGPROXY_') ? 'ab'.repeat(32) : 'replaced') : v]));
}

describe('Kubernetes manifest (deploy/kubernetes/pixproxy.yaml)', () => {
  const docs = parseAllDocuments(read('deploy/kubernetes/pixproxy.yaml')).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Obj;
  });
  const kind = (k: string): Obj => {
    const found = docs.filter((d) => d.kind === k);
    expect(found, k).toHaveLength(1);
    return found[0] as Obj;
  };
  const configMap = kind('ConfigMap');
  const secret = kind('Secret');
  const deployment = kind('Deployment');
  const service = kind('Service');
  const ingress = kind('Ingress');
  const pdb = kind('PodDisruptionBudget');
  const env = filled({ ...(obj(configMap.data) as Record<string, string>), ...(obj(secret.stringData) as Record<string, string>) });
  const container = obj(at(deployment, 'spec.template.spec.containers.0'));

  it('holds the ConfigMap, Secret, Deployment, Service, Ingress and PodDisruptionBudget, with their API versions', () => {
    expect(docs.map((d) => `${String(d.apiVersion)} ${String(d.kind)}`)).toEqual(['v1 ConfigMap', 'v1 Secret', 'apps/v1 Deployment', 'v1 Service', 'networking.k8s.io/v1 Ingress', 'policy/v1 PodDisruptionBudget']);
  });

  it('its environment is a pixproxy configuration that loads, with the lease and a drain delay', () => {
    const config = loadConfig(env);
    expect(config.cache.use).toBe('s3');
    expect(config.cache.lease).toBe(true);
    expect(config.server.drainSecs).toBeGreaterThan(0);
    expect(config.metricsListen?.port).toBe(9464);
  });

  it('probes: liveness on /health, readiness on the configured readiness path, both on the serving port', () => {
    const config = loadConfig(env);
    expect(at(container, 'livenessProbe.httpGet.path')).toBe('/health');
    expect(at(container, 'readinessProbe.httpGet.path')).toBe(config.server.readinessPath);
    expect(at(container, 'livenessProbe.httpGet.port')).toBe('http');
    expect(at(container, 'readinessProbe.httpGet.port')).toBe('http');
    const http = arr(container.ports).map(obj).find((p) => p.name === 'http');
    // deploy/Dockerfile binds IMGPROXY_BIND=:8080.
    expect(http?.containerPort).toBe(8080);
    expect(read('deploy/Dockerfile')).toMatch(/IMGPROXY_BIND=:8080/);
    const metrics = arr(container.ports).map(obj).find((p) => p.name === 'metrics');
    expect(metrics?.containerPort).toBe(config.metricsListen?.port);
  });

  it('the pod outlives its drain and graceful stop; readiness fails fast enough to drain within the delay', () => {
    const config = loadConfig(env);
    const grace = Number(at(deployment, 'spec.template.spec.terminationGracePeriodSeconds'));
    expect(grace).toBeGreaterThan(config.server.drainSecs + config.server.gracefulStopTimeout);
    const period = Number(at(container, 'readinessProbe.periodSeconds'));
    const failures = Number(at(container, 'readinessProbe.failureThreshold'));
    expect(period * failures).toBeLessThan(config.server.drainSecs);
    expect(at(deployment, 'spec.strategy.rollingUpdate.maxUnavailable')).toBe(0);
  });

  it('selectors, names and ports line up: Deployment → pods → Service → Ingress; the environment comes from the ConfigMap and Secret', () => {
    const labels = obj(at(deployment, 'spec.template.metadata.labels'));
    for (const selector of [at(deployment, 'spec.selector.matchLabels'), at(service, 'spec.selector'), at(pdb, 'spec.selector.matchLabels')]) {
      for (const [k, v] of Object.entries(obj(selector))) expect(labels[k]).toBe(v);
    }
    expect(at(service, 'spec.ports.0.targetPort')).toBe('http');
    const backend = obj(at(ingress, 'spec.rules.0.http.paths.0.backend.service'));
    expect(backend.name).toBe(at(service, 'metadata.name'));
    expect(at(backend, 'port.name')).toBe(at(service, 'spec.ports.0.name'));
    const from = arr(container.envFrom).map(obj);
    expect(from.map((f) => at(f, 'configMapRef.name') ?? at(f, 'secretRef.name'))).toEqual([at(configMap, 'metadata.name'), at(secret, 'metadata.name')]);
    expect(Number(at(deployment, 'spec.replicas'))).toBeGreaterThan(Number(at(pdb, 'spec.minAvailable')));
  });

  it('the Ingress hashes on the URL and retries on connection errors only, as the nginx recipe does', () => {
    const a = obj(at(ingress, 'metadata.annotations'));
    expect(a['nginx.ingress.kubernetes.io/upstream-hash-by']).toBe('$request_uri');
    expect(a['nginx.ingress.kubernetes.io/proxy-next-upstream']).toBe('error timeout');
    expect(composeNginxConf()).toMatch(/proxy_next_upstream error timeout;/);
  });
});

describe('compose recipe (deploy/compose.cluster.yaml) and its nginx (deploy/nginx/pixproxy.conf)', () => {
  const compose = obj(parse(read('deploy/compose.cluster.yaml'), { merge: true }));
  const services = obj(compose.services);
  const instances = Object.keys(services).filter((n) => /^pixproxy-\d+$/.test(n));
  /** `${VAR:-default}` → default, as compose substitutes it without the variable. */
  const substituted = (env: Obj): Record<string, string> => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));

  it('three instances whose environment loads, sharing one S3 L2 with the lease', () => {
    expect(instances).toEqual(['pixproxy-1', 'pixproxy-2', 'pixproxy-3']);
    for (const name of instances) {
      const config = loadConfig(substituted(obj(obj(services[name]).environment)));
      expect([config.cache.use, config.cache.bucket, config.cache.lease]).toEqual(['s3', 'pixproxy-cache', true]);
      expect(obj(services[name]).init).toBe(true);
    }
  });

  it('nginx mounts the generated conf.d file, whose upstreams are exactly the instances on the Dockerfile port', () => {
    const conf = read('deploy/nginx/pixproxy.conf');
    expect(conf).toBe(composeNginxConf());
    expect(arr(obj(services.nginx).volumes)).toContain('./nginx/pixproxy.conf:/etc/nginx/conf.d/default.conf:ro');
    expect([...conf.matchAll(/^\s*server (\S+) /gm)].map((m) => m[1])).toEqual(instances.map((n) => `${n}:8080`));
    expect(conf).toMatch(/hash \$request_uri consistent;/);
  });

  it.skipIf(!existsSync('/usr/sbin/nginx'))('nginx accepts the configuration (nginx -t), hashed and round-robin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pixproxy-nginx-t-'));
    try {
      await mkdir(join(dir, 'tmp'));
      const conf = join(dir, 'nginx.conf');
      await writeFile(conf, nginxMainConf(dir, [
        { name: 'ring', listen: '127.0.0.1:1', balance: 'hash', servers: ['127.0.0.1:2', '127.0.0.1:3'], debugHeader: true },
        { name: 'spread', listen: '127.0.0.1:4', balance: 'round-robin', servers: ['127.0.0.1:2'] },
      ]));
      const r = spawnSync('/usr/sbin/nginx', ['-t', '-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { encoding: 'utf8' });
      expect(r.stderr).toMatch(/syntax is ok/);
      expect(r.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
