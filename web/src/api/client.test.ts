import { describe, expect, it } from 'vitest';

import { ApiClient, ApiError, isAbortError } from './client';
import type { StreamEvent, ThreadState } from './types';

// A fetch double that answers like the service: JSON routes, and /runs/stream as a byte stream
// whose chunks we choose. The client under test is the real one; only the network is replaced.

interface Recorded {
  method: string;
  url: string;
  body: unknown;
}

interface StreamPlan {
  chunks: Uint8Array[];
  /** After the chunks: close (default), fail like a dropped connection, or hang until cancelled. */
  then?: 'close' | 'fail' | 'hang';
}

interface FakeServer {
  fetch: typeof fetch;
  requests: Recorded[];
  /** Set when the client cancelled the stream body. */
  cancelled: { value: boolean };
}

const THREAD = {
  thread_id: 't1',
  created_at: '2026-11-24T03:00:00+00:00',
  updated_at: '2026-11-24T03:00:01+00:00',
  metadata: {},
  status: 'interrupted',
};

const STATE: ThreadState = {
  values: {
    task: 'Write about visiting Paris',
    plan: 'Working title: Paris',
    messages: [
      { type: 'human', content: 'Write about visiting Paris', id: 'm1', name: null },
      { type: 'ai', content: '📋 Step 1: Planning Complete\n\nWorking title: Paris', id: 'm2', name: 'planner' },
    ],
  },
  next: ['travel_plan'],
  tasks: [],
  interrupts: [],
  checkpoint: { thread_id: 't1', checkpoint_ns: '', checkpoint_id: 'c1' },
  parent_checkpoint: null,
  metadata: { source: 'loop', step: 1 },
  created_at: '2026-11-24T03:00:01+00:00',
};

function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** Answers the n-th (0-based) join of a run, GET /threads/{t}/runs/{r}/stream?after=<seq>. */
type JoinPlan = (join: { runId: string; after: number; n: number }) => StreamPlan | Response;

function fakeServer(
  plan: StreamPlan | ((signal: AbortSignal | null) => Response),
  routes: Record<string, Response> = {},
  joins?: JoinPlan,
): FakeServer {
  const requests: Recorded[] = [];
  const cancelled = { value: false };
  let joined = 0;
  const stream = (p: StreamPlan) =>
    new Response(byteStream(p, cancelled), { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    requests.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const parsed = new URL(url, 'http://app.test');
    const path = parsed.pathname;
    if (path === '/runs/stream' && method === 'POST') {
      if (typeof plan === 'function') return plan(init?.signal ?? null);
      return stream(plan);
    }
    const join = /^\/threads\/t1\/runs\/([^/]+)\/stream$/.exec(path);
    if (join && method === 'GET' && joins) {
      if (init?.signal?.aborted) throw init.signal.reason;
      const answer = joins({ runId: join[1]!, after: Number(parsed.searchParams.get('after')), n: joined++ });
      return answer instanceof Response ? answer : stream(answer);
    }
    const key = `${method} ${path}`;
    const answer = routes[key];
    if (answer) return answer.clone();
    if (key === 'GET /threads/t1') return json(200, THREAD);
    if (key === 'GET /threads/t1/state') return json(200, STATE);
    return json(404, { detail: `No route ${key}` });
  };
  return { fetch: fetchImpl as typeof fetch, requests, cancelled };
}

function byteStream(plan: StreamPlan, cancelled: { value: boolean }): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = plan.chunks[index++];
        if (chunk) {
          controller.enqueue(chunk);
          return;
        }
        if (plan.then === 'fail') controller.error(new TypeError('network error'));
        else if (plan.then === 'hang') return new Promise<void>(() => undefined);
        else controller.close();
      },
      cancel() {
        cancelled.value = true;
      },
    },
    { highWaterMark: 0 },
  );
}

const encoder = new TextEncoder();

function sse(events: object[], lineEnd = '\n'): string {
  return events.map((event) => `data: ${JSON.stringify(event)}${lineEnd}${lineEnd}`).join('');
}

const base = { thread_id: 't1', run_id: 'r1' };
const RUN = [
  { ...base, seq: 1, event: 'metadata', model: 'offline', research: 'offline', resumed: false, use_hitl: true, max_revisions: 2 },
  { ...base, seq: 2, event: 'node_start', node: 'planner' },
  { ...base, seq: 3, event: 'token', node: 'planner', delta: 'Café crème — ' },
  { ...base, seq: 4, event: 'token', node: 'planner', delta: '🗼 Paris, ünhurried' },
  {
    ...base,
    seq: 5,
    event: 'node',
    node: 'planner',
    data: {
      plan: 'Café crème — 🗼 Paris, ünhurried',
      message: { type: 'AIMessage', content: '📋 Step 1: Planning Complete\n\nCafé crème — 🗼 Paris, ünhurried' },
    },
  },
  { ...base, seq: 6, event: 'interrupt', next: ['travel_plan'], reason: 'hitl' },
];

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function splitAt(bytes: Uint8Array, ...positions: number[]): Uint8Array[] {
  const cuts = [0, ...positions, bytes.length];
  return cuts.slice(1).map((end, i) => bytes.slice(cuts[i], end));
}

/** The events of RUN a join from `after` replays, as the server sends them. */
function replay(after: number, events: object[] = RUN): Uint8Array[] {
  return [encoder.encode(sse(events.filter((e) => (e as { seq: number }).seq > after)))];
}

function paths(server: FakeServer): string[] {
  return server.requests.map((r) => {
    const url = new URL(r.url, 'http://x');
    return `${r.method} ${url.pathname}${url.search}`;
  });
}

function run(server: FakeServer, client = new ApiClient({ fetch: server.fetch })) {
  return client.streamAgent({ thread_id: 't1', message: 'Write about visiting Paris', use_hitl: true });
}

describe('streamAgent parses the run stream', () => {
  it('yields the same events wherever a chunk boundary falls', async () => {
    const bytes = encoder.encode(sse(RUN));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const server = fakeServer({ chunks: splitAt(bytes, cut) });
      expect(await collect(run(server)), `split at byte ${cut}`).toEqual(RUN);
    }
  });

  it('yields the same events when every byte is its own chunk', async () => {
    const bytes = encoder.encode(sse(RUN));
    const chunks = Array.from(bytes, (byte) => Uint8Array.of(byte));
    expect(await collect(run(fakeServer({ chunks })))).toEqual(RUN);
  });

  it('keeps a multi-byte character whole when its bytes arrive in different chunks', async () => {
    const text = sse(RUN);
    const bytes = encoder.encode(text);
    const emoji = encoder.encode('📋');
    const at = bytes.findIndex((_, i) => emoji.every((b, j) => bytes[i + j] === b));
    expect(at).toBeGreaterThan(0);
    // Cut inside the 4-byte emoji twice: 1 + 2 + 1 bytes.
    const events = await collect(run(fakeServer({ chunks: splitAt(bytes, at + 1, at + 3) })));
    const node = events.find((e) => e.event === 'node');
    expect(node?.event === 'node' && node.data.message?.content).toBe(
      '📋 Step 1: Planning Complete\n\nCafé crème — 🗼 Paris, ünhurried',
    );
  });

  it('accepts CRLF line ends, also when CR and LF arrive in different chunks', async () => {
    const bytes = encoder.encode(sse(RUN, '\r\n'));
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(await collect(run(fakeServer({ chunks: splitAt(bytes, cut) }))), `split at byte ${cut}`).toEqual(RUN);
    }
  });

  it('accepts bare CR line ends', async () => {
    const bytes = encoder.encode(sse(RUN, '\r'));
    expect(await collect(run(fakeServer({ chunks: [bytes] })))).toEqual(RUN);
  });

  it('skips comment and heartbeat lines and reports heartbeats', async () => {
    const [first, ...rest] = RUN;
    const text = `: ping\n\n${sse([first!])}:\n\n: ping\n\n${sse(rest)}: ping\n\n`;
    const server = fakeServer({ chunks: [encoder.encode(text)] });
    let beats = 0;
    const client = new ApiClient({ fetch: server.fetch });
    const events = await collect(
      client.streamAgent({ thread_id: 't1', use_hitl: true }, { onHeartbeat: () => (beats += 1) }),
    );
    expect(events).toEqual(RUN);
    expect(beats).toBe(4);
  });

  it('skips event kinds it does not know (later additions to the contract)', async () => {
    const text = sse([RUN[0]!, { ...base, seq: 2, event: 'usage', tokens: 12 }, RUN[5]!]);
    const events = await collect(run(fakeServer({ chunks: [encoder.encode(text)] })));
    expect(events.map((e) => e.event)).toEqual(['metadata', 'interrupt']);
  });

  it('ends on an error event with the message and stops reading', async () => {
    const error = { ...base, seq: 3, event: 'error', error: 'Bedrock throttled the request; send again to resume.', resumable: true };
    const after = { ...base, seq: 4, event: 'complete' };
    const server = fakeServer({ chunks: [encoder.encode(sse([RUN[0]!, RUN[1]!, error, after]))], then: 'hang' });
    const events = await collect(run(server));
    expect(events.map((e) => e.event)).toEqual(['metadata', 'node_start', 'error']);
    expect(events[2]).toEqual(error);
    // A final event means the run is over: the body is released, no resync is made.
    expect(server.cancelled.value).toBe(true);
    expect(server.requests.map((r) => r.method + ' ' + new URL(r.url, 'http://x').pathname)).toEqual(['POST /runs/stream']);
  });
});

describe('streamAgent when things go wrong', () => {
  it('stops at once when aborted mid-stream: throws AbortError, cancels the body, no resync', async () => {
    const server = fakeServer({ chunks: [encoder.encode(sse([RUN[0]!, RUN[1]!]))], then: 'hang' });
    const controller = new AbortController();
    const client = new ApiClient({ fetch: server.fetch });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of client.streamAgent({ thread_id: 't1', use_hitl: true }, { signal: controller.signal })) {
        seen.push(event.event);
        if (event.event === 'node_start') controller.abort();
      }
    })();
    const error = await reading.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAbortError(error)).toBe(true);
    expect(seen).toEqual(['metadata', 'node_start']);
    expect(server.cancelled.value).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('throws AbortError when aborted before the server answers', async () => {
    const server = fakeServer(
      (signal) =>
        new Promise<Response>((_, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason));
        }) as unknown as Response,
    );
    const controller = new AbortController();
    const client = new ApiClient({ fetch: server.fetch });
    const reading = collect(client.streamAgent({ thread_id: 't1', use_hitl: true }, { signal: controller.signal }));
    controller.abort();
    await expect(reading).rejects.toSatisfy(isAbortError);
  });

  it('after a dropped connection the server cannot rejoin (404), reads the thread back and ends with a resync event', async () => {
    const server = fakeServer({ chunks: [encoder.encode(sse([RUN[0]!, RUN[1]!]))], then: 'fail' });
    const events = await collect(run(server));
    expect(events.map((e) => e.event)).toEqual(['metadata', 'node_start', 'resync']);
    const resync = events[2]!;
    expect(resync.event === 'resync' && resync.state).toEqual(STATE);
    expect(resync.event === 'resync' && resync.thread?.status).toBe('interrupted');
    expect(resync.event === 'resync' && resync.reason).toMatch(/network error/);
    const paths = server.requests.map((r) => new URL(r.url, 'http://x').pathname);
    expect(paths).toEqual(['/runs/stream', '/threads/t1/runs/r1/stream', '/threads/t1', '/threads/t1/state']);
  });

  it('resyncs when the stream closes without interrupt, complete or error', async () => {
    const events = await collect(run(fakeServer({ chunks: [encoder.encode(sse([RUN[0]!]))] })));
    expect(events.at(-1)).toMatchObject({ event: 'resync', thread_id: 't1', reason: expect.stringMatching(/ended before/) });
  });

  it('resyncs when the server sends something that is not JSON', async () => {
    const events = await collect(run(fakeServer({ chunks: [encoder.encode(`${sse([RUN[0]!])}data: {oops\n\n`)] })));
    expect(events.at(-1)).toMatchObject({ event: 'resync', reason: expect.stringMatching(/not JSON/) });
  });

  it('does not rejoin after something that is not JSON: a replay would say it again', async () => {
    const server = fakeServer({ chunks: [encoder.encode(`${sse([RUN[0]!])}data: {oops\n\n`)] }, {}, ({ after }) => ({
      chunks: replay(after),
    }));
    const events = await collect(run(server, new ApiClient({ fetch: server.fetch, rejoinDelayMs: 0 })));
    expect(events.map((e) => e.event)).toEqual(['metadata', 'resync']);
    expect(paths(server).some((p) => p.includes('/runs/r1/stream'))).toBe(false);
  });

  it('uses the thread id from the metadata event to resync a run it did not name', async () => {
    const server = fakeServer({ chunks: [encoder.encode(sse([RUN[0]!]))], then: 'fail' });
    const client = new ApiClient({ fetch: server.fetch });
    const events = await collect(client.streamAgent({ message: 'Write about Lyon', use_hitl: false }));
    expect(events.at(-1)).toMatchObject({ event: 'resync', thread_id: 't1', state: STATE });
  });

  it('ends with a resync event without state when the server cannot be reached at all', async () => {
    const client = new ApiClient({
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as typeof fetch,
    });
    const events = await collect(client.streamAgent({ thread_id: 't1', use_hitl: true }));
    expect(events).toEqual([
      expect.objectContaining({ event: 'resync', thread: null, state: null, reason: expect.stringMatching(/Could not reach/) }),
    ]);
  });

  it('throws ApiError with the server’s detail when a run is refused (409 busy)', async () => {
    const server = fakeServer(() => json(409, { detail: 'Thread t1 already has a run going; wait for it to pause or end.' }));
    const reading = collect(run(server));
    await expect(reading).rejects.toBeInstanceOf(ApiError);
    await expect(collect(run(server))).rejects.toMatchObject({ status: 409, detail: expect.stringMatching(/already has a run/) });
  });

  it('names the run that holds the thread when a run is refused (409 busy), so it can be joined', async () => {
    const busy = () => json(409, { detail: 'Thread t1 already has a run in progress.', run_id: 'r-other' });
    await expect(collect(run(fakeServer(busy)))).rejects.toMatchObject({ status: 409, runId: 'r-other' });
    const plain = () => json(409, { detail: 'Thread t1 already has a run in progress.' });
    await expect(collect(run(fakeServer(plain)))).rejects.toMatchObject({ status: 409, runId: null });
  });
});

describe('a broken run stream is rejoined', () => {
  const fast = (server: FakeServer, options: { rejoinAttempts?: number; rejoinDelayMs?: number } = {}) =>
    new ApiClient({ fetch: server.fetch, apiUrl: 'https://api.example', streamUrl: 'https://stream.example', rejoinDelayMs: 1, ...options });

  it('from the last seq seen, on the stream URL, and yields every event exactly once', async () => {
    // The POST stream drops after seq 3; the join replays from seq 2 (one more than asked for).
    const server = fakeServer({ chunks: [encoder.encode(sse(RUN.slice(0, 3)))], then: 'fail' }, {}, ({ after }) => ({
      chunks: replay(after - 2),
    }));
    const events = await collect(run(server, fast(server)));
    expect(events).toEqual(RUN);
    expect(paths(server)).toEqual(['POST /runs/stream', 'GET /threads/t1/runs/r1/stream?after=3']);
    expect(server.requests[1]?.url).toBe('https://stream.example/threads/t1/runs/r1/stream?after=3');
  });

  it('again and again while each connection brings something new', async () => {
    // Every join delivers one new event, then drops: six connections for six events.
    const server = fakeServer({ chunks: [encoder.encode(sse(RUN.slice(0, 1)))], then: 'fail' }, {}, ({ after }) => ({
      chunks: [encoder.encode(sse(RUN.slice(0, after + 1)))],
      then: 'fail',
    }));
    const events = await collect(run(server, fast(server, { rejoinAttempts: 1 })));
    expect(events).toEqual(RUN);
    expect(paths(server).slice(1)).toEqual([1, 2, 3, 4, 5].map((seq) => `GET /threads/t1/runs/r1/stream?after=${seq}`));
  });

  it('a bounded number of times with a growing pause, then resyncs with the first cause', async () => {
    const server = fakeServer({ chunks: [encoder.encode(sse(RUN.slice(0, 2)))], then: 'fail' }, {}, () => {
      times.push(Date.now());
      return json(503, { detail: 'Service Unavailable' });
    });
    const times: number[] = [];
    const events = await collect(run(server, fast(server, { rejoinAttempts: 3, rejoinDelayMs: 20 })));
    expect(events.map((e) => e.event)).toEqual(['metadata', 'node_start', 'resync']);
    expect(events[2]).toMatchObject({ thread_id: 't1', state: STATE, reason: expect.stringMatching(/^The stream broke off: network error\. .*HTTP 503/) });
    expect(paths(server)).toEqual([
      'POST /runs/stream',
      'GET /threads/t1/runs/r1/stream?after=2',
      'GET /threads/t1/runs/r1/stream?after=2',
      'GET /threads/t1/runs/r1/stream?after=2',
      'GET /threads/t1',
      'GET /threads/t1/state',
    ]);
    // 20 ms, then 40, then 80 (timers never fire early; a little slack for clock rounding).
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(38);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(78);
  });

  it('counting failures afresh after a connection that brought something new', async () => {
    const answers: (StreamPlan | Response)[] = [
      { chunks: [encoder.encode(sse(RUN.slice(2, 3)))], then: 'fail' }, // seq 3, then drops
      json(502, { detail: 'Bad Gateway' }),
      { chunks: replay(3) },
    ];
    const server = fakeServer({ chunks: [encoder.encode(sse(RUN.slice(0, 2)))], then: 'fail' }, {}, ({ n }) => answers[n]!);
    const events = await collect(run(server, fast(server, { rejoinAttempts: 2 })));
    expect(events).toEqual(RUN);
  });

  it('stops at once when aborted during the pause before a rejoin', async () => {
    const server = fakeServer({ chunks: [encoder.encode(sse(RUN.slice(0, 2)))], then: 'fail' }, {}, ({ after }) => ({
      chunks: replay(after),
    }));
    const controller = new AbortController();
    const client = new ApiClient({ fetch: server.fetch, rejoinDelayMs: 60_000 });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of client.streamAgent({ thread_id: 't1', use_hitl: true }, { signal: controller.signal })) {
        seen.push(event.event);
        if (event.event === 'node_start') setTimeout(() => controller.abort(), 10);
      }
    })();
    await expect(reading).rejects.toSatisfy(isAbortError);
    expect(seen).toEqual(['metadata', 'node_start']);
    expect(paths(server)).toEqual(['POST /runs/stream']);
  });
});

describe('joinRun follows a run that is already going', () => {
  it('asks the stream URL for the events after a seq and yields them to the final one', async () => {
    const server = fakeServer({ chunks: [] }, {}, ({ after }) => ({ chunks: replay(after), then: 'hang' }));
    const client = new ApiClient({ fetch: server.fetch, apiUrl: 'https://api.example', streamUrl: 'https://stream.example' });
    const events = await collect(client.joinRun('t1', 'r1', { after: 2 }));
    expect(events).toEqual(RUN.slice(2));
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET https://stream.example/threads/t1/runs/r1/stream?after=2']);
    // Ended by its final event: the body is released.
    expect(server.cancelled.value).toBe(true);
  });

  it('replays from the first event by default', async () => {
    const server = fakeServer({ chunks: [] }, {}, ({ after }) => ({ chunks: replay(after) }));
    const events = await collect(new ApiClient({ fetch: server.fetch }).joinRun('t1', 'r1'));
    expect(events).toEqual(RUN);
    expect(paths(server)).toEqual(['GET /threads/t1/runs/r1/stream?after=0']);
  });

  it('skips events it has already yielded when a replay repeats them', async () => {
    const twice = [...RUN.slice(0, 4), ...RUN.slice(1)];
    const server = fakeServer({ chunks: [] }, {}, () => ({ chunks: [encoder.encode(sse(twice))] }));
    expect(await collect(new ApiClient({ fetch: server.fetch }).joinRun('t1', 'r1'))).toEqual(RUN);
  });

  it('ends with a resync at once when the server does not know the run (404)', async () => {
    const server = fakeServer({ chunks: [] }, {}, () => json(404, { detail: 'Run r9 of thread t1 does not exist.' }));
    const events = await collect(new ApiClient({ fetch: server.fetch, rejoinDelayMs: 1 }).joinRun('t1', 'r9'));
    expect(events).toEqual([
      expect.objectContaining({ event: 'resync', thread_id: 't1', state: STATE, reason: expect.stringMatching(/r9 of thread t1 does not exist/) }),
    ]);
    expect(paths(server)).toEqual(['GET /threads/t1/runs/r9/stream?after=0', 'GET /threads/t1', 'GET /threads/t1/state']);
  });
});

describe('runs by id', () => {
  const RUN_JSON = {
    run_id: 'r1',
    thread_id: 't1',
    status: 'running',
    created_at: '2026-11-24T03:00:00+00:00',
    updated_at: '2026-11-24T03:00:02+00:00',
    last_seq: 4,
    error: null,
  };

  it('reads a run, and cancels it with a POST to the API URL', async () => {
    const server = fakeServer({ chunks: [] }, {
      'GET /threads/t1/runs/r1': json(200, RUN_JSON),
      'POST /threads/t1/runs/r1/cancel': json(202, { ...RUN_JSON, status: 'cancelled' }),
    });
    const client = new ApiClient({ fetch: server.fetch, apiUrl: 'https://api.example', streamUrl: 'https://stream.example' });
    expect((await client.getRun('t1', 'r1')).last_seq).toBe(4);
    expect((await client.cancelRun('t1', 'r1')).status).toBe('cancelled');
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET https://api.example/threads/t1/runs/r1',
      'POST https://api.example/threads/t1/runs/r1/cancel',
    ]);
  });

  it('says 409 with the server’s detail when the run to cancel has already ended', async () => {
    const server = fakeServer({ chunks: [] }, {
      'POST /threads/t1/runs/r1/cancel': json(409, { detail: 'Run r1 has already ended (interrupted).' }),
    });
    await expect(new ApiClient({ fetch: server.fetch }).cancelRun('t1', 'r1')).rejects.toMatchObject({
      status: 409,
      detail: 'Run r1 has already ended (interrupted).',
    });
  });
});

describe('ApiClient routes', () => {
  it('sends runs to streamUrl and everything else to apiUrl', async () => {
    const server = fakeServer({ chunks: [encoder.encode(sse(RUN))] });
    const client = new ApiClient({ apiUrl: 'https://api.example/', streamUrl: 'https://stream.example', fetch: server.fetch });
    await collect(client.streamAgent({ thread_id: 't1', message: 'Go', use_hitl: true, max_revisions: 3 }));
    await client.getState('t1');
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST https://stream.example/runs/stream',
      'GET https://api.example/threads/t1/state',
    ]);
    expect(server.requests[0]?.body).toEqual({ thread_id: 't1', message: 'Go', use_hitl: true, max_revisions: 3 });
  });

  it('is same-origin when no URL is configured', async () => {
    const server = fakeServer({ chunks: [] });
    await new ApiClient({ fetch: server.fetch }).getThread('t1');
    expect(server.requests[0]?.url).toBe('/threads/t1');
  });

  it('creates, reads, edits, lists history of and deletes threads', async () => {
    const edited = { ...STATE, values: { ...STATE.values, plan: 'My plan' } };
    const server = fakeServer({ chunks: [] }, {
      'POST /threads': json(201, { ...THREAD, thread_id: 'new-1', status: 'idle' }),
      'POST /threads/t1/state': json(200, edited),
      'GET /threads/t1/history': json(200, [edited, STATE]),
      'DELETE /threads/t1': json(204, null),
    });
    const client = new ApiClient({ fetch: server.fetch });
    expect((await client.createThread({ metadata: { title: 'Paris' } })).thread_id).toBe('new-1');
    expect((await client.getThread('t1')).status).toBe('interrupted');
    expect((await client.updateState('t1', { plan: 'My plan' })).values.plan).toBe('My plan');
    expect(await client.getHistory('t1', 5)).toHaveLength(2);
    expect(await client.deleteThread('t1')).toBeUndefined();
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /threads',
      'GET /threads/t1',
      'POST /threads/t1/state',
      'GET /threads/t1/history?limit=5',
      'DELETE /threads/t1',
    ]);
    expect(server.requests[0]?.body).toEqual({ metadata: { title: 'Paris' } });
    expect(server.requests[2]?.body).toEqual({ values: { plan: 'My plan' } });
  });

  it('turns 4xx answers into ApiError with the detail, FastAPI validation lists included', async () => {
    const server = fakeServer({ chunks: [] }, {
      'POST /threads/t1/state': json(409, { detail: 'Thread t1 is not paused; edit it while it is paused.' }),
      'POST /threads': json(422, { detail: [{ loc: ['body', 'thread_id'], msg: 'String should match pattern' }] }),
    });
    const client = new ApiClient({ fetch: server.fetch });
    await expect(client.updateState('t1', { plan: 'x' })).rejects.toMatchObject({ status: 409, detail: expect.stringMatching(/not paused/) });
    await expect(client.createThread({ thread_id: 'bad id!' })).rejects.toMatchObject({ status: 422, detail: 'String should match pattern' });
    await expect(client.getThread('nope')).rejects.toMatchObject({ status: 404 });
  });
});
