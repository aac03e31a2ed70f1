import type { IncomingMessage } from 'node:http';
import { requestClientAddress } from '../billing/webhook-source.ts';

/**
 * "The client's IP" for rate-limit keys, session records and the YooKassa allow-list:
 * the socket's peer, or — only with TRUST_PROXY=true — what our reverse proxy set
 * (X-Real-IP, else the right-most X-Forwarded-For hop; entries to its left come from the
 * client and could say anything). One rule, in `requestClientAddress`.
 */

interface IpLocals {
  clientAddress: string | null;
  ctx: { config: { server: { trustProxy: boolean } } };
}

/** For Astro routes and the middleware; '' when the peer is unknown. */
export function clientIp(request: Request, locals: IpLocals): string {
  return requestClientAddress(locals.clientAddress, request.headers, locals.ctx.config.server.trustProxy) ?? '';
}

/** For node routes (src/server/routes.ts), which see the raw IncomingMessage. */
export function clientIpOfNodeRequest(req: IncomingMessage, trustProxy: boolean): string {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return requestClientAddress(req.socket.remoteAddress, headers, trustProxy) ?? '';
}
