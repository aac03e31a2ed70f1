import http from 'node:http';

/**
 * A Server-Sent Events reader over plain node:http (Node has no EventSource): events and
 * comments as they arrive, the answer's status and headers, and when the server ended it.
 */
export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body of a refused (non-200) answer. */
  body: Promise<string>;
  /** `data` of each event so far. */
  events: string[];
  /** Comment lines so far (Beem sends none: its heartbeats are status events). */
  comments: number;
  /** Resolves when the server has ended the stream. */
  ended: Promise<void>;
  /** Waits for the event number `index` (0-based) and returns its data. */
  event(index: number, timeoutMs?: number): Promise<string>;
  /** Waits for the first event whose parsed JSON passes `check`, and returns it. */
  find<T = Record<string, unknown>>(check: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  close(): void;
}

export function openSse(baseUrl: string, path: string, options: { cookie?: string; headers?: Record<string, string> } = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
    if (options.cookie) headers.cookie = options.cookie;
    const req = http.get(`${baseUrl}${path}`, { headers, agent: false }, (res) => {
      res.setEncoding('utf8');
      let buffer = '';
      let raw = '';
      const waiters: Array<() => void> = [];
      const wake = () => waiters.splice(0).forEach((fn) => fn());
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: ended.then(() => raw),
        events: [],
        comments: 0,
        ended,
        event: (index, timeoutMs = 10_000) => waitFor(() => (stream.events.length > index ? stream.events[index]! : null), timeoutMs, `event ${index}`),
        find: <T>(check: (value: T) => boolean, timeoutMs = 10_000) =>
          waitFor(() => stream.events.map((data) => JSON.parse(data) as T).find(check) ?? null, timeoutMs, 'a matching event'),
        close: () => req.destroy(),
      };
      let done = false;
      function waitFor<T>(check: () => T | null, timeoutMs: number, what: string): Promise<T> {
        return new Promise((ok, fail) => {
          const timer = setTimeout(() => fail(new Error(`timed out waiting for ${what}; events: ${stream.events.length}, comments: ${stream.comments}`)), timeoutMs);
          const attempt = () => {
            const value = check();
            if (value !== null) {
              clearTimeout(timer);
              ok(value);
            } else if (done) {
              clearTimeout(timer);
              fail(new Error(`the stream ended before ${what}`));
            } else waiters.push(attempt);
          };
          attempt();
        });
      }
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6));
          if (data.length > 0) stream.events.push(data.join('\n'));
          else if (block.startsWith(':')) stream.comments += 1;
        }
        wake();
      });
      const finish = () => {
        done = true;
        endedResolve();
        wake();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      resolve(stream);
    });
    req.on('error', reject);
  });
}
