import type { APIRoute } from 'astro';
import { errorResponse, json } from '../../lib/http/respond.ts';
import { isAppError, unauthorized } from '../../lib/errors.ts';
import { acceptImageUpload } from '../../lib/uploads/accept.ts';
import { readImageField } from '../../lib/http/multipart.ts';

export const POST: APIRoute = async ({ request, locals }) => {
  const { ctx, user } = locals;
  try {
    if (!user) throw unauthorized();
    const accepted = await acceptImageUpload(await readImageField(request), {
      db: ctx.db,
      blobs: ctx.blobs,
      userId: user.id,
      now: ctx.clock.now(),
    });
    return json({ success: true, ...accepted });
  } catch (err) {
    const response = errorResponse(err, locals.locale, locals.log);
    // The body may be only partly read: the socket must not carry another request.
    if (isAppError(err) && err.status === 413) response.headers.set('Connection', 'close');
    return response;
  }
};
