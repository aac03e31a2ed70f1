import { BlockList, isIP } from 'node:net';

/**
 * Client addresses and allow-lists: the one rule for "who sent this request", used by rate
 * limits, session records, `/metrics` and the YooKassa webhook (reference §8: notifications
 * carry no signature, so the source address is the first check; the re-read of the payment
 * is the second). Allow-list entries are addresses or CIDRs, IPv4 or IPv6.
 */

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) → `1.2.3.4`; zone ids dropped. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1]! : trimmed;
}

/** Throws on an entry that is neither an address nor a CIDR, so a typo cannot open the door. */
export function parseAllowList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.trim().split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`not an IP address or CIDR: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) throw new Error(`bad CIDR prefix: ${entry}`);
    list.addSubnet(address, bits, type);
  }
  return list;
}

export function isAllowedSource(list: BlockList, address: string | null | undefined): boolean {
  if (!address) return false;
  const normalized = normalizeAddress(address);
  const family = isIP(normalized);
  if (family === 0) return false;
  return list.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client address of a request: the socket's peer, or — only when the operator said a
 * reverse proxy is in front (TRUST_PROXY) — the address that proxy set (`X-Real-IP`, else the
 * last `X-Forwarded-For` hop, the one our proxy appended).
 */
export function requestClientAddress(
  socketAddress: string | null | undefined,
  headers: Headers,
  trustProxy: boolean,
): string | null {
  if (trustProxy) {
    const real = headers.get('x-real-ip')?.trim();
    if (real) return normalizeAddress(real);
    const hops = headers.get('x-forwarded-for')?.split(',').map((h) => h.trim()).filter(Boolean) ?? [];
    if (hops.length > 0) return normalizeAddress(hops[hops.length - 1]!);
  }
  return socketAddress ? normalizeAddress(socketAddress) : null;
}
