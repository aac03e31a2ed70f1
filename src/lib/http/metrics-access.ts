import { createHash, timingSafeEqual } from 'node:crypto';
import type { BlockList } from 'node:net';
import { isAllowedSource, requestClientAddress } from './client-address.ts';

/**
 * Who may read `/metrics`: a request with `Authorization: Bearer <METRICS_TOKEN>` (when a
 * token is set), or one from an address on METRICS_ALLOWED_IPS. The address is the socket's
 * peer, or the proxy's client header when TRUST_PROXY says a proxy is in front. A request
 * that carries forwarding headers without TRUST_PROXY came through a proxy we were not told
 * about: its peer (often 127.0.0.1) says nothing about the client, so only the token counts.
 */

export interface MetricsAccessRequest {
  authorization: string | undefined;
  socketAddress: string | null | undefined;
  headers: Headers;
}

export interface MetricsAccessPolicy {
  token: string;
  allowList: BlockList;
  trustProxy: boolean;
}

const FORWARDING_HEADERS = ['x-forwarded-for', 'x-real-ip', 'forwarded'];

function sameSecret(given: string, expected: string): boolean {
  // Hash both so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function isMetricsAccessAllowed(request: MetricsAccessRequest, policy: MetricsAccessPolicy): boolean {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? '');
  if (policy.token && bearer && sameSecret(bearer[1]!, policy.token)) return true;
  const proxied = FORWARDING_HEADERS.some((name) => request.headers.has(name));
  if (proxied && !policy.trustProxy) return false;
  const address = requestClientAddress(request.socketAddress, request.headers, policy.trustProxy);
  return isAllowedSource(policy.allowList, address);
}
