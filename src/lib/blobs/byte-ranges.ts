/**
 * The `Range` header of a GET (RFC 9110 §14.1.2), for one range: what browsers send to play
 * and seek a video. Several ranges at once (multipart/byteranges) are answered with the
 * whole file, as `send` does; a header that does not parse is ignored, as the RFC allows.
 */

export type RangeChoice = { start: number; end: number } | 'whole' | 'unsatisfiable';

const SINGLE = /^bytes=(\d{0,15})-(\d{0,15})$/;

export function chooseRange(header: string | undefined, size: number): RangeChoice {
  if (header === undefined) return 'whole';
  const match = SINGLE.exec(header.trim());
  if (!match) return 'whole';
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return 'whole';
  if (first === '') {
    // `bytes=-N`: the last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return 'whole';
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
