import { describe, expect, it } from 'vitest';
import { YOOKASSA_PUBLISHED_IPS, loadConfig, ConfigError } from '../../src/lib/config.ts';
import { isAllowedSource, normalizeAddress, parseAllowList, requestClientAddress } from '../../src/lib/http/client-address.ts';

describe('YooKassa webhook source', () => {
  const published = parseAllowList(YOOKASSA_PUBLISHED_IPS);

  it.each([
    ['185.71.76.1', true],
    ['185.71.76.31', true],
    ['185.71.76.32', false],
    ['77.75.154.200', true],
    ['77.75.156.11', true],
    ['77.75.156.12', false],
    ['::ffff:185.71.77.5', true],
    ['2a02:5180:0:1509::10', true],
    ['2a02:5181::1', false],
    ['127.0.0.1', false],
    ['not-an-ip', false],
    ['', false],
  ])('%s allowed by the published list: %s', (address, allowed) => {
    expect(isAllowedSource(published, address)).toBe(allowed);
  });

  it('normalises IPv4-mapped and bracketed addresses', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('[::1]')).toBe('::1');
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80::1');
  });

  it('refuses entries that are not addresses or CIDRs', () => {
    expect(() => parseAllowList(['185.71.76.0/33'])).toThrow();
    expect(() => parseAllowList(['yookassa.ru'])).toThrow();
    expect(() => loadConfig({ NODE_ENV: 'test', YOOKASSA_WEBHOOK_ALLOWED_IPS: '185.71.76.0/27,nonsense' })).toThrow(ConfigError);
  });

  it('believes proxy headers only when told to', () => {
    const headers = new Headers({ 'x-real-ip': '185.71.76.3', 'x-forwarded-for': '6.6.6.6, 185.71.76.4' });
    expect(requestClientAddress('::ffff:10.0.0.2', headers, false)).toBe('10.0.0.2');
    expect(requestClientAddress('10.0.0.2', headers, true)).toBe('185.71.76.3');
    expect(requestClientAddress('10.0.0.2', new Headers({ 'x-forwarded-for': '6.6.6.6, 185.71.76.4' }), true)).toBe('185.71.76.4');
    expect(requestClientAddress(null, new Headers(), true)).toBeNull();
  });
});
