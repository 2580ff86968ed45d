/**
 * Derives the listen addresses from the schema's values, once, at startup: the image
 * server's, the metrics listener's and the admin API's (PIXPROXY_ADMIN_BIND). Precedence as imgproxy's server config
 * (https://github.com/imgproxy/imgproxy/blob/master/server/config.go): IMGPROXY_BIND when
 * set, else `:PORT`, else `:8080`; PreviewProxy's PP_PORT counts as PORT (it binds every
 * interface at that port). The metrics listener is always TCP, as imgproxy's is.
 */
import { parseHostPort, sameSocket, showAddress, type ListenAddress, type TcpAddress } from './listen.js';
import { setName, type Findings, type SchemaValues } from './types.js';

const PORT_NAMES = ['PP_PORT', 'PORT'] as const;
const PROMETHEUS_NAMES = ['IMGPROXY_PROMETHEUS_BIND', 'PP_PROMETHEUS_BIND'] as const;

function mainAddress(v: SchemaValues, f: Findings): ListenAddress | null {
  const { network, bind, port } = v.server;
  const bindSet = setName(f.env, ['IMGPROXY_BIND']) !== undefined;
  const portVar = setName(f.env, PORT_NAMES);
  if (bindSet && portVar) f.warn(`${portVar} is ignored: IMGPROXY_BIND is set and wins (imgproxy's precedence)`);
  if (network === 'unix') {
    if (!bindSet) {
      f.error('IMGPROXY_BIND: expected the socket path with IMGPROXY_NETWORK=unix, got nothing');
      return null;
    }
    return { network: 'unix', path: bind.trim() };
  }
  if (!bindSet && port !== undefined) return { network, host: '', port };
  const parsed = parseHostPort(bind, network);
  if (typeof parsed === 'string') {
    f.error(`IMGPROXY_BIND: ${parsed}, got ${JSON.stringify(bind)}`);
    return null;
  }
  return parsed;
}

function metricsAddress(v: SchemaValues, f: Findings): TcpAddress | null {
  const bind = v.server.prometheusBind;
  if (bind.trim() === '') return null;
  const parsed = parseHostPort(bind);
  if (typeof parsed === 'string') {
    f.error(`${setName(f.env, PROMETHEUS_NAMES) ?? PROMETHEUS_NAMES[0]}: ${parsed}, got ${JSON.stringify(bind)}`);
    return null;
  }
  return parsed;
}

function adminAddress(v: SchemaValues, f: Findings): TcpAddress | null {
  const bind = v.admin.bind;
  if (bind.trim() === '') return null;
  const parsed = parseHostPort(bind);
  if (typeof parsed === 'string') {
    f.error(`PIXPROXY_ADMIN_BIND: ${parsed}, got ${JSON.stringify(bind)}`);
    return null;
  }
  return parsed;
}

/** The derived addresses; an unusable value is reported and replaced by a placeholder. */
export function listenAddresses(v: SchemaValues, f: Findings): { listen: ListenAddress; metricsListen: TcpAddress | null; adminListen: TcpAddress | null } {
  const listen = f.parsed('IMGPROXY_NETWORK', 'IMGPROXY_BIND', ...PORT_NAMES) ? mainAddress(v, f) : null;
  const metricsListen = f.parsed(...PROMETHEUS_NAMES) ? metricsAddress(v, f) : null;
  const adminListen = f.parsed('PIXPROXY_ADMIN_BIND') ? adminAddress(v, f) : null;
  if (listen && metricsListen && sameSocket(listen, metricsListen)) {
    f.error(`${setName(f.env, PROMETHEUS_NAMES) ?? PROMETHEUS_NAMES[0]}: expected an address other than the image server's (${showAddress(listen)}), got ${JSON.stringify(v.server.prometheusBind)}`);
  }
  for (const [other, what] of [[listen, "the image server's"], [metricsListen, "the metrics listener's"]] as const) {
    if (adminListen && other && sameSocket(adminListen, other)) {
      f.error(`PIXPROXY_ADMIN_BIND: expected an address other than ${what} (${showAddress(other)}), got ${JSON.stringify(v.admin.bind)}; PIXPROXY_ADMIN_PATH_PREFIX serves the admin API on the main port`);
    }
  }
  // The placeholder never listens: a configuration with errors does not start.
  return { listen: listen ?? { network: 'tcp', host: '', port: 8080 }, metricsListen, adminListen };
}
