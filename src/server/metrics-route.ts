import type { NodeRoute } from './http-server.ts';
import { parseAllowList } from '../lib/billing/webhook-source.ts';
import { isMetricsAccessAllowed } from '../lib/metrics/access.ts';

function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** `GET /metrics`: Prometheus text for a scraper holding METRICS_TOKEN or on METRICS_ALLOWED_IPS; 403 for anyone else. */
export const metricsRoute: NodeRoute = async ({ ctx, req, res, url }) => {
  if (url.pathname !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Method Not Allowed');
    return true;
  }
  const allowed = isMetricsAccessAllowed(
    { authorization: req.headers.authorization, socketAddress: req.socket.remoteAddress, headers: headersOf(req.headers) },
    {
      token: ctx.secrets.metricsToken,
      allowList: parseAllowList(ctx.config.metrics.allowedIps),
      trustProxy: ctx.config.server.trustProxy,
    },
  );
  if (!allowed) {
    res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('Forbidden');
    return true;
  }
  let body: string;
  try {
    body = await ctx.metrics.render();
  } catch (err) {
    ctx.log.error({ mod: 'metrics', err }, 'metrics could not be collected');
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('metrics unavailable');
    return true;
  }
  res.writeHead(200, {
    'Content-Type': ctx.metrics.contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
};
