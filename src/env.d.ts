/// <reference types="astro/client" />

declare namespace App {
  interface Locals {
    ctx: import('./lib/context.ts').AppContext;
    requestId: string;
    /** The TCP peer's address (the proxy's when behind one): use `clientIp(request, locals)`. */
    remoteAddress: string;
    log: import('./lib/logger.ts').Logger;
    locale: import('./lib/i18n/index.ts').Locale;
    user: import('./lib/auth/users.ts').User | null;
    session: import('./lib/auth/sessions.ts').Session | null;
  }
}
