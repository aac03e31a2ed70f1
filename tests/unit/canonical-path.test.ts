import { describe, expect, it } from 'vitest';
import { canonicalRequestTarget } from '../../src/lib/http/canonical-path.ts';

describe('canonicalRequestTarget', () => {
  it.each([
    '/',
    '/admin/users',
    '/admin/users/',
    '/api/video/gen_01HZX?download=1',
    '/legal/offer',
    '/lang?to=en&next=%2F%2Fevil',
    "/a-b.c_d~e!$&'()*+,;=:@",
    '/%D0%BA%D0%BE%D1%84%D0%B5',
    '/x%20y',
    '/...',
  ])('serves %j as it is', (target) => {
    const verdict = canonicalRequestTarget(target, 'POST');
    expect(verdict.kind).toBe('canonical');
  });

  it.each([
    ['//admin/users', '/admin/users'],
    ['///admin/users', '/admin/users'],
    ['/./admin/users', '/admin/users'],
    ['/zz/../admin/users', '/admin/users'],
    ['/admin//users', '/admin/users'],
    ['/admin/users/.', '/admin/users'],
    ['/admin/users/..', '/admin'],
    ['/../admin', '/admin'],
    ['/%2e%2e/admin', '/admin'],
    ['/%2E/admin', '/admin'],
    ['/%61dmin', '/admin'],
    ['/%7euser', '/~user'],
    ['/%d0%ba', '/%D0%BA'],
    ['/x%7Cy', '/x%7Cy'],
    ['/x|y', '/x%7Cy'],
    ['//?next=//evil', '/?next=//evil'],
    ['/admin//?a=1', '/admin/?a=1'],
  ])('redirects GET %j to %j', (target, location) => {
    const verdict = canonicalRequestTarget(target, 'GET');
    if (target === location) expect(verdict.kind).toBe('canonical');
    else expect(verdict).toEqual({ kind: 'redirect', location });
    // The canonical spelling is a fixed point.
    expect(canonicalRequestTarget(location, 'GET').kind).toBe('canonical');
  });

  it('answers 404 to other methods under another spelling', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      expect(canonicalRequestTarget('//api/generate', method)).toEqual({ kind: 'not-found' });
    }
    expect(canonicalRequestTarget('//admin', 'HEAD')).toEqual({ kind: 'redirect', location: '/admin' });
  });

  it.each([
    '/%2Fadmin',
    '/admin%2fusers',
    '/%5Cadmin',
    '/a\\b',
    '/%FF',
    '/%C0%AF',
    '/%zz',
    '/%',
    '/x%0',
    '/x%00y',
    '/x%0Ay',
    '/x#frag',
    'admin',
    '*',
    'http://evil.example/admin',
    '/x\u00e9',
  ])('refuses %j with 400', (target) => {
    expect(canonicalRequestTarget(target, 'GET')).toEqual({ kind: 'bad-request' });
  });
});
