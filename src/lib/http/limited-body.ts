import { AppError } from '../errors.ts';

/**
 * Reads a request body into memory but never more than `limit` bytes: a declared
 * Content-Length over the limit is refused before reading, and an undeclared (chunked)
 * body is refused as soon as the count passes the limit. The rest is left unread; the
 * route answers with `Connection: close` so the socket is not reused.
 */
export async function readBodyWithLimit(request: Request, limit: number, code = 'BODY_TOO_LARGE'): Promise<Buffer> {
  const tooLarge = () =>
    new AppError(code, { status: 413, params: { limitMb: Math.round(limit / (1024 * 1024)) } });
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  if (!request.body) return Buffer.alloc(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    // Do not cancel the reader: that would destroy the socket before the 413 is written.
    if (size > limit) throw tooLarge();
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
