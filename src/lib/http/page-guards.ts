import type { AstroGlobal } from 'astro';
import { adminPageAccess } from '../admin/access.ts';
import { signInPath } from '../auth/guards.ts';

/**
 * The admin pages' own guard, on top of the middleware's (defence in depth: a page refuses
 * a non-admin even if a request reached it past the middleware). In the frontmatter:
 * `const denied = guardAdminPage(Astro); if (denied) return denied;`
 */
export function guardAdminPage(astro: Pick<AstroGlobal, 'locals' | 'url' | 'redirect' | 'rewrite'>): Response | Promise<Response> | null {
  const access = adminPageAccess(astro.locals);
  if (access === 'signed-out') return astro.redirect(signInPath(astro.url), 302);
  if (access === 'forbidden') return astro.rewrite('/admin/forbidden');
  return null;
}
