// The HTTP API of docs/api.md: typed calls for threads and their state, and the run stream.
import { abortError, readServerEvents } from './sse';
import type {
  ResyncEvent,
  RunInput,
  StateEdit,
  StreamEvent,
  Thread,
  ThreadState,
} from './types';
import { isFinalEvent } from './types';

export { isAbortError, StreamProtocolError } from './sse';

/** The server answered with a 4xx/5xx; `detail` is its explanation. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;

  constructor(status: number, detail: string) {
    super(`${detail} (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
  }

  static async from(response: Response): Promise<ApiError> {
    let detail = response.statusText || 'The server refused the request.';
    try {
      const body: unknown = await response.json();
      const raw = (body as { detail?: unknown } | null)?.detail;
      if (typeof raw === 'string') detail = raw;
      // FastAPI's validation errors: a list of {msg, loc}.
      else if (Array.isArray(raw)) detail = raw.map((item: { msg?: unknown }) => String(item.msg ?? item)).join('; ');
    } catch {
      // Not JSON: keep the status text.
    }
    return new ApiError(response.status, detail);
  }
}

export interface ApiClientOptions {
  /** Base URL of the REST routes; '' means same origin. */
  apiUrl?: string | undefined;
  /** Base URL of POST /runs/stream (a streaming function URL in the cloud); defaults to apiUrl. */
  streamUrl?: string | undefined;
  fetch?: typeof fetch | undefined;
}

export interface StreamOptions {
  /** Stop reading (the Stop button). The generator then throws the abort reason. */
  signal?: AbortSignal | undefined;
  /** Called for heartbeat comments, so a caller can show the run is alive. */
  onHeartbeat?: (() => void) | undefined;
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ApiClient {
  private readonly apiUrl: string;
  private readonly streamUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions = {}) {
    this.apiUrl = options.apiUrl ?? '';
    this.streamUrl = options.streamUrl || this.apiUrl;
    // Bound: calling an unbound window.fetch throws "Illegal invocation".
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const response = await this.fetchImpl(joinUrl(this.apiUrl, path), init);
    if (!response.ok) throw await ApiError.from(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  health(): Promise<{ status: string; model: string; research: string }> {
    return this.request('GET', '/health');
  }

  createThread(input: { thread_id?: string; metadata?: Record<string, unknown> } = {}): Promise<Thread> {
    return this.request('POST', '/threads', input);
  }

  getThread(threadId: string): Promise<Thread> {
    return this.request('GET', `/threads/${encodeURIComponent(threadId)}`);
  }

  getState(threadId: string): Promise<ThreadState> {
    return this.request('GET', `/threads/${encodeURIComponent(threadId)}/state`);
  }

  /** Edit plan/draft/critique of a paused thread; answers the state after the edit. */
  updateState(threadId: string, values: StateEdit): Promise<ThreadState> {
    return this.request('POST', `/threads/${encodeURIComponent(threadId)}/state`, { values });
  }

  /** Checkpoints, newest first. */
  getHistory(threadId: string, limit = 10): Promise<ThreadState[]> {
    return this.request('GET', `/threads/${encodeURIComponent(threadId)}/history?limit=${limit}`);
  }

  deleteThread(threadId: string): Promise<void> {
    return this.request('DELETE', `/threads/${encodeURIComponent(threadId)}`);
  }

  /** Reads the thread back after a broken stream, so the screen can match the server. */
  async resync(threadId: string | null, reason: string): Promise<ResyncEvent> {
    if (!threadId) return { event: 'resync', thread_id: null, reason, thread: null, state: null };
    try {
      const [thread, state] = await Promise.all([this.getThread(threadId), this.getState(threadId)]);
      return { event: 'resync', thread_id: threadId, reason, thread, state };
    } catch (error) {
      return {
        event: 'resync',
        thread_id: threadId,
        reason: `${reason} Reading the thread back failed too: ${describe(error)}`,
        thread: null,
        state: null,
      };
    }
  }

  /**
   * Starts or resumes a run and yields its events as they arrive. The last event is one of
   * interrupt, complete, error — or, when the connection broke first, a client-made `resync`
   * carrying the thread as the server has it. HTTP refusals (409 busy, 422) throw ApiError
   * before any event; stopping through `signal` throws the abort reason.
   */
  async *streamAgent(input: RunInput, options: StreamOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
    const { signal, onHeartbeat } = options;
    let threadId = input.thread_id ?? null;
    let response: Response;
    try {
      response = await this.fetchImpl(joinUrl(this.streamUrl, '/runs/stream'), {
        method: 'POST',
        headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json' },
        body: JSON.stringify(input),
        signal: signal ?? null,
        cache: 'no-store',
      });
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      yield await this.resync(threadId, `Could not reach the server: ${describe(error)}.`);
      return;
    }
    if (!response.ok) throw await ApiError.from(response);
    if (!response.body) {
      yield await this.resync(threadId, 'The server answered without a stream.');
      return;
    }

    try {
      for await (const event of readServerEvents(response.body, {
        signal,
        onComment: onHeartbeat ? () => onHeartbeat() : undefined,
      })) {
        if (event.event === 'metadata') threadId = event.thread_id;
        yield event;
        // Exactly one final event ends a stream; anything after it is not ours to read.
        if (isFinalEvent(event)) return;
      }
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      yield await this.resync(threadId, `The stream broke off: ${describe(error)}.`);
      return;
    }
    if (signal?.aborted) throw abortError(signal);
    yield await this.resync(threadId, 'The stream ended before the run paused or finished.');
  }
}
