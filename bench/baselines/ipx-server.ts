/**
 * Baseline peer proxy: ipx (unjs), which fetches and transforms with sharp on every request
 * (it has no result cache). Sources come over HTTP from the loopback origin, like pixproxy's.
 * URL: `/s_<w>x<h>,fit_inside,f_<fmt>,q_80/http://127.0.0.1:<origin>/<path>`.
 *
 * usage: node --import tsx bench/baselines/ipx-server.ts <port> <dir>
 */
import { createServer } from 'node:http';
import { createIPX, createIPXNodeServer, ipxFSStorage, ipxHttpStorage } from 'ipx';

const port = Number(process.argv[2]);
const dir = process.argv[3] ?? '.';
const ipx = createIPX({ storage: ipxFSStorage({ dir }), httpStorage: ipxHttpStorage({ domains: ['127.0.0.1'] }) });
const handler = createIPXNodeServer(ipx);

createServer((req, res) => {
  if (req.url === '/health') {
    res.end('ok');
    return;
  }
  void handler(req, res);
}).listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`));
