// The HTTP API of docs/api.md: typed calls for threads and their state, and the run stream.
import { sleep } from '../lib/sleep';
import { withBearer, type TokenSource } from './bearer';
import { abortError, readServerEvents, StreamProtocolError } from './sse';
import type {
  CancelledRun,
  CreateThreadInput,
  Health,
  ResyncEvent,
  Run,
  RunInput,
  ServerEvent,
  StateEdit,
  StreamEvent,
  Thread,
  ThreadPage,
  ThreadState,
} from './types';
import { isFinalEvent } from './types';

export { isAbortError, StreamProtocolError } from './sse';

/** The server answered with a 4xx/5xx; `detail` is its explanation. */
export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  /** The run that holds the thread, when a run was refused because one is going (409). */
  readonly runId: string | null;

  constructor(status: number, detail: string, runId: string | null = null) {
    super(`${detail} (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.runId = runId;
  }

  static async from(response: Response): Promise<ApiError> {
    let detail = response.statusText || 'The server refused the request.';
    let runId: string | null = null;
    try {
      const body = (await response.json()) as { detail?: unknown; run_id?: unknown } | null;
      const raw = body?.detail;
      if (typeof raw === 'string') detail = raw;
      // FastAPI's validation errors: a list of {msg, loc}.
      else if (Array.isArray(raw)) detail = raw.map((item: { msg?: unknown }) => String(item.msg ?? item)).join('; ');
      if (typeof body?.run_id === 'string') runId = body.run_id;
    } catch {
      // Not JSON: keep the status text.
    }
    return new ApiError(response.status, detail, runId);
  }
}

export interface ApiClientOptions {
  /** Base URL of the REST routes; '' means same origin. */
  apiUrl?: string | undefined;
  /** Base URL of the streams, POST /runs/stream and the join route (a streaming function URL in
   * the cloud); defaults to apiUrl. */
  streamUrl?: string | undefined;
  fetch?: typeof fetch | undefined;
  /** Signed-in users: every request and stream carries this source's bearer token. */
  tokens?: TokenSource | undefined;
  /** Rejoins of a broken run stream in a row that bring nothing new, before giving up. */
  rejoinAttempts?: number | undefined;
  /** The pause before the first rejoin; it doubles with each failed one. */
  rejoinDelayMs?: number | undefined;
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

function runPath(threadId: string, runId: string): string {
  return `/threads/${encodeURIComponent(threadId)}/runs/${encodeURIComponent(runId)}`;
}

/** Where a run's reader stands: the run, and the seq of the last event it has seen. */
interface RunCursor {
  threadId: string | null;
  runId: string | null;
  after: number;
}

/** Why a run stream is not (or no longer) being read: broken (worth rejoining) or gone (not). */
interface StreamProblem {
  kind: 'broken' | 'gone';
  reason: string;
}

/** A run stream to read, or why there is none. */
type Connection = { kind: 'open'; body: ReadableStream<Uint8Array> } | StreamProblem;

const REJOIN_ATTEMPTS = 4;
const REJOIN_DELAY_MS = 500;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ApiClient {
  private readonly apiUrl: string;
  private readonly streamUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly rejoinAttempts: number;
  private readonly rejoinDelayMs: number;

  constructor(options: ApiClientOptions = {}) {
    this.apiUrl = options.apiUrl ?? '';
    this.streamUrl = options.streamUrl || this.apiUrl;
    // Bound: calling an unbound window.fetch throws "Illegal invocation".
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.fetchImpl = options.tokens ? withBearer(fetchImpl, options.tokens) : fetchImpl;
    this.rejoinAttempts = options.rejoinAttempts ?? REJOIN_ATTEMPTS;
    this.rejoinDelayMs = options.rejoinDelayMs ?? REJOIN_DELAY_MS;
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

  health(): Promise<Health> {
    return this.request('GET', '/health');
  }

  /** The caller's threads, newest activity first, `limit` at a time; `cursor` is the previous
   * page's `next_cursor` (null on the last page). */
  listThreads({ limit = 20, cursor = null }: { limit?: number; cursor?: string | null } = {}): Promise<ThreadPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    return this.request('GET', `/threads?${query}`);
  }

  createThread(input: CreateThreadInput = {}): Promise<Thread> {
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

  /** One run as the server knows it (status, last_seq). */
  getRun(threadId: string, runId: string): Promise<Run> {
    return this.request('GET', runPath(threadId, runId));
  }

  /**
   * Cancels a running run: the server stops it mid-node, discards that node's partial work, and
   * the run's stream ends with an interrupt whose reason is "cancelled". Throws ApiError 409
   * when the run has already ended (its final event tells how), 404 when unknown.
   */
  cancelRun(threadId: string, runId: string): Promise<CancelledRun> {
    return this.request('POST', `${runPath(threadId, runId)}/cancel`);
  }

  /**
   * Starts or resumes a run and yields its events as they arrive. If the connection breaks, the
   * run (which goes on without us) is rejoined from the last event seen, so every event is
   * yielded once. The last event is one of interrupt, complete, error — or, when the run could
   * not be followed to its end, a client-made `resync` carrying the thread as the server has it.
   * HTTP refusals (409 busy, 422) throw ApiError before any event; stopping through `signal`
   * throws the abort reason.
   */
  async *streamAgent(input: RunInput, options: StreamOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
    const { signal } = options;
    const cursor: RunCursor = { threadId: input.thread_id ?? null, runId: null, after: 0 };
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
      yield await this.resync(cursor.threadId, `Could not reach the server: ${describe(error)}.`);
      return;
    }
    if (!response.ok) throw await ApiError.from(response);
    const first: Connection = response.body
      ? { kind: 'open', body: response.body }
      : { kind: 'broken', reason: 'The server answered without a stream.' };
    yield* this.follow(cursor, first, options);
  }

  /**
   * Follows a run that is already going (or has ended): replays its events with seq > `after`,
   * then yields the live ones until its final event. Ends like streamAgent: interrupt, complete,
   * error, or a client-made `resync` when the run cannot be followed (unknown to the server, or
   * the connection kept failing).
   */
  async *joinRun(
    threadId: string,
    runId: string,
    options: StreamOptions & { after?: number } = {},
  ): AsyncGenerator<StreamEvent, void, undefined> {
    const cursor: RunCursor = { threadId, runId, after: options.after ?? 0 };
    yield* this.follow(cursor, await this.openJoin(cursor, options.signal), options);
  }

  /** GET the join route from `cursor.after`. Never throws for HTTP or network trouble. */
  private async openJoin(cursor: RunCursor, signal: AbortSignal | undefined): Promise<Connection> {
    const { threadId, runId, after } = cursor;
    if (!threadId || !runId) return { kind: 'gone', reason: 'The run is not known yet.' };
    let response: Response;
    try {
      // The position rides in the query, not in a Last-Event-ID header: without sign-in, a GET
      // without custom headers needs no CORS preflight when the stream URL is another origin.
      // (With sign-in, Authorization makes it preflighted anyway; the function URL allows it.)
      response = await this.fetchImpl(joinUrl(this.streamUrl, `${runPath(threadId, runId)}/stream?after=${after}`), {
        headers: { Accept: 'text/event-stream' },
        signal: signal ?? null,
        cache: 'no-store',
      });
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      return { kind: 'broken', reason: `Could not reach the server: ${describe(error)}.` };
    }
    if (response.status === 404) {
      const error = await ApiError.from(response);
      return { kind: 'gone', reason: `The server cannot follow run ${runId}: ${error.detail}` };
    }
    if (!response.ok) {
      const error = await ApiError.from(response);
      return { kind: 'broken', reason: `Rejoining the run failed: ${error.message}.` };
    }
    if (!response.body) return { kind: 'broken', reason: 'The server answered without a stream.' };
    return { kind: 'open', body: response.body };
  }

  /**
   * Reads a run to its final event across broken connections: each break rejoins from the last
   * seq seen, a few times with a growing pause (counted afresh whenever a connection brought
   * something new); then it gives up with a resync.
   */
  private async *follow(
    cursor: RunCursor,
    first: Connection,
    options: StreamOptions,
  ): AsyncGenerator<StreamEvent, void, undefined> {
    let connection = first;
    let cause: string | null = null;
    let failures = 0;
    for (;;) {
      let problem: StreamProblem;
      if (connection.kind === 'open') {
        const before = cursor.after;
        const ended = yield* this.readConnection(connection.body, cursor, options);
        if (ended === 'final') return;
        if (cursor.after > before) {
          failures = 0;
          cause = null;
        }
        problem = ended;
      } else {
        problem = connection;
      }
      // The first problem is what the user needs to hear; a failed rejoin only adds to it.
      cause ??= problem.reason;
      if (problem.kind === 'gone' || !cursor.runId || failures >= this.rejoinAttempts) {
        const reason = problem.reason === cause ? cause : `${cause} ${problem.reason}`;
        yield await this.resync(cursor.threadId, reason);
        return;
      }
      await sleep(this.rejoinDelayMs * 2 ** failures, options.signal);
      failures += 1;
      connection = await this.openJoin(cursor, options.signal);
    }
  }

  /**
   * Yields one connection's new events (seq above the cursor; a replay repeats none) and says
   * how it ended: 'final', or broken with the reason.
   */
  private async *readConnection(
    body: ReadableStream<Uint8Array>,
    cursor: RunCursor,
    { signal, onHeartbeat }: StreamOptions,
  ): AsyncGenerator<ServerEvent, 'final' | StreamProblem, undefined> {
    try {
      for await (const event of readServerEvents(body, {
        signal,
        onComment: onHeartbeat ? () => onHeartbeat() : undefined,
      })) {
        if (event.run_id !== cursor.runId) {
          // The first event of a run names it; seq counts from 1 within each run.
          cursor.runId = event.run_id;
          cursor.after = 0;
        }
        cursor.threadId = event.thread_id;
        if (event.seq <= cursor.after) continue;
        cursor.after = event.seq;
        yield event;
        // Exactly one final event ends a stream; anything after it is not ours to read.
        if (isFinalEvent(event)) return 'final';
      }
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      // A replay would repeat what the server cannot say properly: no point rejoining.
      if (error instanceof StreamProtocolError) return { kind: 'gone', reason: `${error.message}.` };
      return { kind: 'broken', reason: `The stream broke off: ${describe(error)}.` };
    }
    if (signal?.aborted) throw abortError(signal);
    return { kind: 'broken', reason: 'The stream ended before the run paused or finished.' };
  }
}
