import { describe, expect, it } from 'vitest';
import { watchStatus, type StreamSource } from '../../src/scripts/status-stream.ts';
import type { VisibilitySource } from '../../src/scripts/poll-schedule.ts';

/**
 * The page's watcher (src/scripts/status-stream.ts): the stream while it works, the real
 * backed-off poller (with short pauses here) from the moment it breaks, never both.
 */

interface Answer {
  status: string;
  step: string;
}

class FakeStream implements StreamSource {
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closed = false;
  close() {
    this.closed = true;
  }
  push(answer: Answer | string) {
    this.onmessage?.({ data: typeof answer === 'string' ? answer : JSON.stringify(answer) });
  }
  fail() {
    this.onerror?.(new Event('error'));
  }
}

const visibility: VisibilitySource = { visibilityState: 'visible', addEventListener() {}, removeEventListener() {} };

/** The window's `offline` event, fired by hand. */
class FakeConnectivity {
  listeners = new Set<() => void>();
  addEventListener(_type: 'offline', listener: () => void) {
    this.listeners.add(listener);
  }
  removeEventListener(_type: 'offline', listener: () => void) {
    this.listeners.delete(listener);
  }
  goOffline() {
    for (const listener of [...this.listeners]) listener();
  }
}
const final = (a: Answer) => a.status === 'success' || a.status === 'failed';
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

function setup(options: { stream: FakeStream | null; polled: Answer[]; silenceMs?: number; connectivity?: FakeConnectivity }) {
  const seen: Answer[] = [];
  let polls = 0;
  const watcher = watchStatus<Answer>({
    streamUrl: '/api/status/stream?generationId=gen_1',
    openStream: () => options.stream,
    fetch: async () => options.polled[Math.min(polls++, options.polled.length - 1)]!,
    isTransient: () => false,
    phaseOf: (a) => `${a.status}:${a.step}`,
    onAnswer: (a) => {
      seen.push(a);
      return final(a);
    },
    onNetworkError() {},
    onError(error) {
      throw error;
    },
    visibility,
    nextDelay: () => 5,
    silenceMs: options.silenceMs ?? 60_000,
    connectivity: options.connectivity ?? new FakeConnectivity(),
  });
  return { watcher, seen, polls: () => polls };
}

const QUEUED = { status: 'queued', step: 'prepare' };
const RENDERING = { status: 'processing', step: 'poll' };
const DONE = { status: 'success', step: 'done' };

describe('watching a generation', () => {
  it('takes every answer from the stream and closes it at the final one, without a single poll', async () => {
    const stream = new FakeStream();
    const { seen, polls } = setup({ stream, polled: [DONE] });
    stream.push(QUEUED);
    stream.push(RENDERING);
    stream.push(DONE);
    expect(seen).toEqual([QUEUED, RENDERING, DONE]);
    expect(stream.closed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(polls()).toBe(0);
  });

  it('falls back to polling when the stream breaks, and closes it so it cannot reconnect beside the poller', async () => {
    const stream = new FakeStream();
    const { seen, polls } = setup({ stream, polled: [RENDERING, RENDERING, DONE] });
    stream.push(QUEUED);
    stream.fail();
    expect(stream.closed).toBe(true);
    await until(() => seen.at(-1)?.status === 'success');
    expect(seen).toEqual([QUEUED, RENDERING, RENDERING, DONE]);
    expect(polls()).toBe(3);
    // A late event of the closed stream changes nothing.
    stream.push(QUEUED);
    expect(seen.at(-1)).toEqual(DONE);
  });

  it('polls from the start where there is no stream (no EventSource, or it would not open)', async () => {
    const { seen } = setup({ stream: null, polled: [RENDERING, DONE] });
    await until(() => seen.length === 2);
    expect(seen).toEqual([RENDERING, DONE]);
  });

  it('treats an unreadable event as a broken stream', async () => {
    const stream = new FakeStream();
    const { seen } = setup({ stream, polled: [DONE] });
    stream.push('<html>proxy error</html>');
    expect(stream.closed).toBe(true);
    await until(() => seen.length === 1);
    expect(seen).toEqual([DONE]);
  });

  it('takes a stream that goes quiet longer than silenceMs for a broken one', async () => {
    const stream = new FakeStream();
    const { seen } = setup({ stream, polled: [DONE], silenceMs: 30 });
    stream.push(QUEUED);
    await until(() => seen.length === 2);
    expect(stream.closed).toBe(true);
    expect(seen).toEqual([QUEUED, DONE]);
  });

  it('polls once the browser says it is offline (the poller then reports it and keeps trying)', async () => {
    const stream = new FakeStream();
    const connectivity = new FakeConnectivity();
    const { seen } = setup({ stream, polled: [DONE], connectivity });
    stream.push(QUEUED);
    connectivity.goOffline();
    expect(stream.closed).toBe(true);
    expect(connectivity.listeners.size).toBe(0);
    await until(() => seen.length === 2);
    expect(seen).toEqual([QUEUED, DONE]);
  });

  it('does nothing more once stopped: no poll after a later error', async () => {
    const stream = new FakeStream();
    const { watcher, polls } = setup({ stream, polled: [DONE] });
    stream.push(QUEUED);
    watcher.stop();
    expect(stream.closed).toBe(true);
    stream.fail();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(polls()).toBe(0);
  });
});
