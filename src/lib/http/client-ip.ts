import { requestClientAddress } from './client-address.ts';

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
