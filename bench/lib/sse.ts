import http from 'node:http';
import type { StreamSource } from '../../src/scripts/status-stream.ts';

/**
 * The browser's EventSource, as much of it as the page uses (src/scripts/status-stream.ts),
 * over node:http: each `data:` line reaches `onmessage`; the server ending the stream or the
 * connection failing reaches `onerror`. No automatic reconnection (the page closes a broken
 * stream at once anyway).
 */
export function nodeEventSource(url: string, cookie: string, onOpen: () => void = () => {}): StreamSource {
  const source: StreamSource = { onmessage: null, onerror: null, close: () => req.destroy() };
  let failed = false;
  const fail = () => {
    if (failed) return;
    failed = true;
    source.onerror?.(new Error('stream ended'));
  };
  const req = http.get(url, { headers: { cookie, accept: 'text/event-stream' }, agent: false }, (res) => {
    onOpen();
    if (res.statusCode !== 200) {
      res.resume();
      fail();
      return;
    }
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of block.split('\n')) if (line.startsWith('data: ')) source.onmessage?.({ data: line.slice(6) });
      }
    });
    res.on('end', fail);
    res.on('error', fail);
  });
  req.on('error', fail);
  return source;
}
