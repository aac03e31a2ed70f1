import type { APIContext } from 'astro';
import { SESSION_COOKIE, deleteSession } from '../../lib/auth/sessions.ts';
import { json } from '../../lib/http/respond.ts';

/** Ends the session on the server (the old cookie stops working at once) and clears it. */
export async function POST(context: APIContext): Promise<Response> {
  const { ctx, session } = context.locals;
  if (session) await deleteSession(ctx.db, session.id);
  context.cookies.delete(SESSION_COOKIE, { path: '/' });
  if ((context.request.headers.get('accept') ?? '').includes('application/json')) return json({ success: true });
  return context.redirect('/', 303);
}
