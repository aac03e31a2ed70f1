import { startPoller, type Poller, type PollerOptions } from './poll-schedule.ts';

/**
 * How the page watches a running generation: one Server-Sent Events stream
 * (`/api/status/stream`, each event the `/api/status` JSON), and, the moment the stream
 * breaks or cannot open (no EventSource, a proxy that cuts it, a server restart, too many
 * tabs), the backed-off polling of poll-schedule.ts for the rest of the wait. The broken
 * stream is closed first: EventSource would otherwise reconnect on its own beside the poller.
 * A stream that goes quiet longer than `silenceMs` counts as broken too: the server sends
 * an event at least every heartbeat, and a connection lost without a word (a phone changing
 * networks, a half-open socket) would otherwise leave the page waiting forever. So does the
 * browser saying it went offline: the poller then says so and keeps trying until it is back.
 */

/** The part of EventSource this uses (tests and the bench hand in their own). */
export interface StreamSource {
  onmessage: ((event: { data: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(): void;
}

export interface StatusWatchOptions<T> extends PollerOptions<T> {
  streamUrl: string;
  /** Opens the stream, or null where there is none (then it polls). Default: EventSource. */
  openStream?: (url: string) => StreamSource | null;
  /** Starts the fallback (default: startPoller). */
  startPolling?: (options: PollerOptions<T>) => Poller;
  /** Longest quiet time of a live stream (a few of the server's heartbeats). */
  silenceMs: number;
  /** Where `offline` comes from (the window unless a test says otherwise). */
  connectivity?: ConnectivitySource;
}

export interface ConnectivitySource {
  addEventListener(type: 'offline', listener: () => void): void;
  removeEventListener(type: 'offline', listener: () => void): void;
}

function openEventSource(url: string): StreamSource | null {
  if (typeof EventSource !== 'function') return null;
  const events = new EventSource(url);
  const source: StreamSource = { onmessage: null, onerror: null, close: () => events.close() };
  events.onmessage = (event) => source.onmessage?.(event);
  events.onerror = (event) => source.onerror?.(event);
  return source;
}

export function watchStatus<T>(options: StatusWatchOptions<T>): Poller {
  let source: StreamSource | null = null;
  let poller: Poller | null = null;
  let stopped = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;

  const connectivity = options.connectivity ?? window;
  const closeStream = () => {
    clearTimeout(watchdog);
    connectivity.removeEventListener('offline', fallBack);
    if (!source) return;
    source.onmessage = null;
    source.onerror = null;
    source.close();
    source = null;
  };
  const stop = () => {
    stopped = true;
    closeStream();
    poller?.stop();
  };
  const fallBack = () => {
    closeStream();
    if (stopped || poller) return;
    poller = (options.startPolling ?? startPoller)(options);
  };

  try {
    source = (options.openStream ?? openEventSource)(options.streamUrl);
  } catch {
    source = null;
  }
  const expectNextEvent = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(fallBack, options.silenceMs);
  };

  if (!source) {
    fallBack();
  } else {
    connectivity.addEventListener('offline', fallBack);
    expectNextEvent();
    source.onmessage = (event) => {
      if (stopped) return;
      expectNextEvent();
      let answer: T;
      try {
        answer = JSON.parse(event.data) as T;
      } catch {
        fallBack();
        return;
      }
      if (options.onAnswer(answer)) stop();
    };
    source.onerror = fallBack;
  }

  return {
    stop,
    pollNow() {
      poller?.pollNow();
    },
  };
}
