/**
 * docs/admin.openapi.yaml is the admin API: valid OpenAPI 3.1 (every $ref resolves, every
 * schema compiles as JSON Schema 2020-12), exactly the routes and methods src/admin/api.ts
 * serves, and real answers of a running server (stats, purges, errors) validate against it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Ajv2020 } from '../../backends/node_modules/ajv/dist/2020.js';
import { ADMIN_ROUTES } from '../../../src/admin/api.js';
import { startApp, type RunningApp } from '../../helpers/app.js';

interface Spec {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
}

const spec = parse(readFileSync(new URL('../../../docs/admin.openapi.yaml', import.meta.url), 'utf8')) as Spec;
const SECRET = 's'.repeat(40);
let px: RunningApp;

const ajv = new Ajv2020({ strict: false });
ajv.addSchema({ $id: 'spec', components: spec.components });
/** A validator of a component schema or response, through the spec's own $refs. */
function validator(ref: string): (v: unknown) => boolean {
  const fn = ajv.compile({ $ref: `spec${ref}` });
  return (v) => {
    const ok = fn(v);
    if (!ok) console.error(JSON.stringify(fn.errors));
    return ok;
  };
}

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

beforeAll(async () => {
  px = await startApp({ PIXPROXY_ADMIN_PATH_PREFIX: '/_admin', PIXPROXY_ADMIN_SECRET: SECRET });
});
afterAll(async () => {
  await px?.stop();
});

const call = async (path: string, body?: unknown, secret = SECRET): Promise<{ status: number; json: unknown }> => {
  const r = await fetch(`${px.url}/_admin${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${secret}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: r.status, json: await r.json() };
};

describe('docs/admin.openapi.yaml', () => {
  it('is OpenAPI 3.1 whose $refs all resolve and whose schemas all compile', () => {
    expect(spec.openapi).toMatch(/^3\.1\./);
    for (const ref of refs(spec)) {
      const parts = ref.replace(/^#\//, '').split('/');
      let node: unknown = spec;
      for (const p of parts) node = (node as Record<string, unknown>)[p];
      expect(node, ref).toBeDefined();
    }
    for (const name of Object.keys(spec.components.schemas)) expect(() => validator(`#/components/schemas/${name}`)).not.toThrow();
  });

  it('documents exactly the routes and methods the admin API serves', () => {
    const documented = Object.fromEntries(Object.entries(spec.paths).map(([p, ops]) => [p, Object.keys(ops).map((m) => m.toUpperCase()).join(',')]));
    expect(documented).toEqual(ADMIN_ROUTES);
  });

  it("the server's answers validate: stats, every purge kind, its errors; the request examples are valid requests", async () => {
    const stats = await call('/stats');
    expect(stats.status).toBe(200);
    expect(validator('#/components/schemas/Stats')(stats.json)).toBe(true);
    const request = validator('#/components/schemas/PurgeRequest');
    const examples = spec.paths['/purge']?.post?.requestBody?.content['application/json'] as unknown as { examples: Record<string, { value: unknown }> };
    for (const [name, { value }] of Object.entries(examples.examples)) {
      expect(request(value), name).toBe(true);
      const r = await call('/purge', value);
      expect(r.status, name).toBe(200);
      expect(validator('#/components/schemas/PurgeResult')(r.json), name).toBe(true);
    }
    expect(request({ url: 'a', tag: 'b' })).toBe(false);
    expect(request({})).toBe(false);
    const errors = [await call('/purge', { nope: 1 }), await call('/stats', undefined, 'wrong'), await call('/nothing')];
    expect(errors.map((e) => e.status)).toEqual([400, 401, 404]);
    for (const e of errors) expect(validator('#/components/schemas/Error')(e.json)).toBe(true);
  });
});
