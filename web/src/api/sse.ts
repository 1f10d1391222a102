// Reads a run's text/event-stream body into typed events. The SSE grammar (line ends, comments,
// multi-line data, BOM) is the eventsource-parser library's job; bytes become text through a
// streaming TextDecoder, which keeps a multi-byte character that is split across chunks whole.
import { createParser } from 'eventsource-parser';

import type { ServerEvent, ServerEventKind } from './types';

// Keyed by the schema's event kinds: tsc fails here when the server gains or drops one.
const SERVER_EVENTS: Record<ServerEventKind, true> = {
  metadata: true,
  node_start: true,
  token: true,
  node: true,
  interrupt: true,
  complete: true,
  error: true,
};

/** The stream carried something that is not one of the documented events. */
export class StreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamProtocolError';
  }
}

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The stream was stopped.', 'AbortError');
}

export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** One event's data, checked just enough to dispatch on `event`. */
export function parseEventData(data: string): ServerEvent | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new StreamProtocolError(`The server sent an event that is not JSON: ${data.slice(0, 80)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { event?: unknown }).event !== 'string') {
    throw new StreamProtocolError('The server sent an event without an "event" field.');
  }
  const kind = (parsed as { event: string }).event;
  // Unknown kinds are future additions: skip them rather than break the run.
  return Object.hasOwn(SERVER_EVENTS, kind) ? (parsed as ServerEvent) : null;
}

export interface ReadOptions {
  signal?: AbortSignal | undefined;
  /** Called for each comment line (`: ping` heartbeats). */
  onComment?: ((comment: string) => void) | undefined;
}

/**
 * Yields the events of an SSE body as they complete. Stopping (the signal) cancels the body and
 * throws the abort reason; a consumer that breaks out early cancels the body too.
 */
export async function* readServerEvents(
  body: ReadableStream<Uint8Array>,
  { signal, onComment }: ReadOptions = {},
): AsyncGenerator<ServerEvent, void, undefined> {
  const reader = body.getReader();
  // stream: true keeps a multi-byte character whose bytes straddle two chunks for the next one.
  const decoder = new TextDecoder();
  const ready: string[] = [];
  const parser = createParser({ onEvent: (message) => ready.push(message.data), onComment });
  const stop = () => {
    reader.cancel(signal ? abortError(signal) : undefined).catch(() => undefined);
  };
  signal?.addEventListener('abort', stop, { once: true });
  let endsWithCR = false;
  try {
    if (signal?.aborted) throw abortError(signal);
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        throw error;
      }
      if (signal?.aborted) throw abortError(signal);
      if (result.done) {
        const rest = decoder.decode();
        // A CR at the very end is a line end; the parser only waits to see whether LF follows.
        parser.feed((rest ? rest.endsWith('\r') : endsWithCR) ? `${rest}\n` : rest);
      } else {
        const text = decoder.decode(result.value, { stream: true });
        if (text) endsWithCR = text.endsWith('\r');
        parser.feed(text);
      }
      while (ready.length) {
        const event = parseEventData(ready.shift() as string);
        if (event) yield event;
      }
      if (result.done) return;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    // Releases the connection when the consumer stopped early; a no-op after the end.
    await reader.cancel().catch(() => undefined);
  }
}
