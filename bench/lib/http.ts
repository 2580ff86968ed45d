/**
 * A minimal HTTP GET for warm-ups, checks and the stampede: status, headers, body and the
 * time to the last byte, over an optional shared keep-alive agent.
 */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';

export interface GetResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** Name/value pairs as sent (case and order kept). */
  rawHeaders: string[];
  body: Buffer;
  ms: number;
}

export function get(url: string, agent?: Agent, timeoutMs = 60_000): Promise<GetResult> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agent ?? false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await get(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
  return JSON.parse(r.body.toString()) as T;
}

/** Sum of all samples of a Prometheus counter, matched by name suffix (namespaces vary). */
export function promSum(text: string, suffix: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-\d.e+]+|NaN)/.exec(line);
    if (m && (m[1] === suffix || m[1]?.endsWith(`_${suffix}`))) total += Number(m[3]);
  }
  return total;
}
