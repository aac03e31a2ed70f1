import type { NodeRoute } from './http-server.ts';
import { parseAllowList } from '../lib/http/client-address.ts';
import { isMetricsAccessAllowed } from '../lib/http/metrics-access.ts';
import { nodeRequestHeaders, sendText } from '../lib/http/node-kit.ts';

/** `GET /metrics`: Prometheus text for a scraper holding METRICS_TOKEN or on METRICS_ALLOWED_IPS; 403 for anyone else. */
export const metricsRoute: NodeRoute = async ({ ctx, req, res, url }) => {
  if (url.pathname !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    return true;
  }
  const allowed = isMetricsAccessAllowed(
    { authorization: req.headers.authorization, socketAddress: req.socket.remoteAddress, headers: nodeRequestHeaders(req) },
    {
      token: ctx.secrets.metricsToken,
      allowList: parseAllowList(ctx.config.metrics.allowedIps),
      trustProxy: ctx.config.server.trustProxy,
    },
  );
  if (!allowed) {
    sendText(res, 403, 'Forbidden');
    return true;
  }
  let body: string;
  try {
    body = await ctx.metrics.render();
  } catch (err) {
    ctx.log.error({ mod: 'metrics', err }, 'metrics could not be collected');
    sendText(res, 500, 'metrics unavailable');
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
