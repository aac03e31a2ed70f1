/// <reference types="astro/client" />

declare namespace App {
  interface Locals {
    ctx: import('./lib/context.ts').AppContext;
    requestId: string;
    log: import('./lib/logger.ts').Logger;
    /** The TCP peer of the request (set by our node server; not a forwarded header).
     *  For "the client's IP" use `clientIp(request, locals)` from src/lib/http/client-ip.ts. */
    clientAddress: string | null;
    locale: import('./lib/i18n/index.ts').Locale;
    user: import('./lib/auth/users.ts').User | null;
    session: import('./lib/auth/sessions.ts').Session | null;
    /** The Astro route pattern that matched (`/api/status`), set by the middleware for request metrics. */
    routePattern?: string;
  }
}
