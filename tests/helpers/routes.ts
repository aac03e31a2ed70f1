import fs from 'node:fs';
import path from 'node:path';

/**
 * Every page and API route in src/pages, found by walking the folder, so a route added
 * later is covered by the access tests without anyone remembering to list it.
 */

export interface Route {
  /** Relative to src/pages, e.g. `admin/users/[id].astro`. */
  file: string;
  url: string;
  method: 'GET' | 'POST';
  kind: 'page' | 'api';
  admin: boolean;
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

/** `ids` fills `[id]` by section (`users`, `generations`, `payments`); catch-all routes are left out. */
export function discoverRoutes(ids: Record<string, string>): Route[] {
  const pagesRoot = path.resolve('src/pages');
  const routes: Route[] = [];
  for (const file of walk(pagesRoot)) {
    const relative = path.relative(pagesRoot, file).replace(/\\/g, '/');
    if (!/\.(astro|ts)$/.test(relative) || relative.includes('[...')) continue;
    const kind = relative.startsWith('api/') || relative.endsWith('.ts') ? 'api' : 'page';
    const admin = relative.startsWith('admin/') || relative.startsWith('api/admin/');
    const section = relative.split('/')[relative.startsWith('api/') ? 2 : 1] ?? '';
    let url = `/${relative.replace(/\.(astro|ts)$/, '').replace(/(^|\/)index$/, '')}`;
    url = url.replace(/\[(\w+)\]/g, () => ids[section] ?? 'unknown');
    if (url.length > 1) url = url.replace(/\/$/, '');
    if (kind === 'api') {
      const source = fs.readFileSync(file, 'utf8');
      for (const method of ['GET', 'POST'] as const) {
        if (new RegExp(`export (const|async function|function) ${method}\\b`).test(source)) routes.push({ file: relative, url, method, kind, admin });
      }
    } else {
      routes.push({ file: relative, url: url || '/', method: 'GET', kind, admin });
    }
  }
  return routes;
}
