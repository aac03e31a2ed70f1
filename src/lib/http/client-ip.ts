/**
 * The address of the client that made a request. Forwarded headers are believed only when
 * TRUST_PROXY=true (a reverse proxy we run sets them; anyone else could write them), and
 * then X-Real-IP, or else the right-most X-Forwarded-For entry: the one our proxy appended,
 * since entries to its left come from the client. Rate-limit keys and the YooKassa IP
 * allow-list both depend on this being right.
 */

export interface HeaderSource {
  get(name: string): string | null;
}

export function normalizeIp(address: string): string {
  const trimmed = address.trim();
  // IPv4 clients on a dual-stack socket appear as ::ffff:1.2.3.4.
  return trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice(7) : trimmed;
}

export function resolveClientIp(headers: HeaderSource, remoteAddress: string | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const realIp = headers.get('x-real-ip');
    if (realIp?.trim()) return normalizeIp(realIp);
    const forwarded = headers.get('x-forwarded-for');
    const last = forwarded
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .pop();
    if (last) return normalizeIp(last);
  }
  return normalizeIp(remoteAddress ?? '');
}

/** For Astro routes and middleware: the node server puts the socket address on locals. */
export function clientIp(request: Request, locals: { remoteAddress?: string; ctx: { config: { server: { trustProxy: boolean } } } }): string {
  return resolveClientIp(request.headers, locals.remoteAddress, locals.ctx.config.server.trustProxy);
}

/** For node routes (src/server/routes.ts), which see the raw IncomingMessage. */
export function clientIpOfNodeRequest(
  req: { headers: Record<string, string | string[] | undefined>; socket: { remoteAddress?: string } },
  trustProxy: boolean,
): string {
  const headers: HeaderSource = {
    get(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(',') : (value ?? null);
    },
  };
  return resolveClientIp(headers, req.socket.remoteAddress, trustProxy);
}
