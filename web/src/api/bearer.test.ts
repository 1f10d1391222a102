import { afterEach, describe, expect, it } from 'vitest';

import { AuthError } from '../auth/provider';
import { AuthSession } from '../auth/session';
import { FakeIdentity, MemoryStorage } from '../auth/testing';
import { TokenStore } from '../auth/tokens';
import { ApiClient, ApiError } from './client';
import type { StreamEvent } from './types';

// The real ApiClient and AuthSession; Cognito and the network are doubles: a server that takes
// the tokens in `valid` and answers 401 with a reason to any other.

interface Seen {
  method: string;
  path: string;
  authorization: string | null;
}

const base = { thread_id: 't1', run_id: 'r1' };
const RUN = [
  { ...base, seq: 1, event: 'metadata', model: 'offline', research: 'offline', resumed: false, use_hitl: true },
  { ...base, seq: 2, event: 'interrupt', next: ['travel_plan'], reason: 'hitl' },
];

function sse(events: object[]): string {
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
}

function server(valid: Set<string>, reason = 'token expired') {
  const seen: Seen[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), 'http://app.test');
    const authorization = new Headers(init?.headers).get('Authorization');
    const method = init?.method ?? 'GET';
    seen.push({ method, path: url.pathname, authorization });
    const token = authorization?.replace(/^Bearer /, '') ?? '';
    if (!valid.has(token)) {
      return new Response(JSON.stringify({ detail: reason }), {
        status: 401,
        headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' },
      });
    }
    if (url.pathname === '/runs/stream' || url.pathname.endsWith('/stream')) {
      return new Response(sse(RUN), { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    }
    if (url.pathname === '/threads') {
      return Response.json({ threads: [], next_cursor: null });
    }
    return Response.json({ run_id: 'r1', thread_id: 't1', status: 'interrupted', created_at: '', updated_at: '', last_seq: 2, error: null });
  };
  return { fetch: fetchImpl as typeof fetch, seen };
}

const sessions: AuthSession[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.dispose();
});

/** A real session, signed in: Cognito (a double) hands out access-1, then access-2, … */
async function signedIn() {
  const identity = new FakeIdentity({ alice: { sub: 'sub-alice', password: 'right' } });
  const session = new AuthSession({ provider: identity, store: new TokenStore(new MemoryStorage(), 'c') });
  sessions.push(session);
  await session.signIn('alice', 'right');
  return { identity, session };
}

function notice(session: AuthSession): string | null {
  const state = session.getState();
  return state.status === 'signedOut' ? state.notice : null;
}

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('the bearer token', () => {
  it('rides on every API call and on both streams', async () => {
    const api = server(new Set(['access-1']));
    const { session } = await signedIn();
    const client = new ApiClient({ fetch: api.fetch, tokens: session });
    await client.listThreads();
    await client.getRun('t1', 'r1');
    expect(await collect(client.streamAgent({ thread_id: 't1', message: 'Paris', use_hitl: true }))).toHaveLength(2);
    expect(await collect(client.joinRun('t1', 'r1'))).toHaveLength(2);
    expect(api.seen).toEqual([
      { method: 'GET', path: '/threads', authorization: 'Bearer access-1' },
      { method: 'GET', path: '/threads/t1/runs/r1', authorization: 'Bearer access-1' },
      { method: 'POST', path: '/runs/stream', authorization: 'Bearer access-1' },
      { method: 'GET', path: '/threads/t1/runs/r1/stream', authorization: 'Bearer access-1' },
    ]);
  });

  it('keeps the request’s own headers', async () => {
    const recorded: Headers[] = [];
    const fetchImpl = (async (_: RequestInfo | URL, init?: RequestInit) => {
      recorded.push(new Headers(init?.headers));
      return Response.json({ threads: [], next_cursor: null });
    }) as typeof fetch;
    const { session } = await signedIn();
    await new ApiClient({ fetch: fetchImpl, tokens: session }).createThread();
    expect(recorded[0]?.get('Content-Type')).toBe('application/json');
    expect(recorded[0]?.get('Accept')).toBe('application/json');
    expect(recorded[0]?.get('Authorization')).toBe('Bearer access-1');
  });

  it('is not sent without sign-in (no token source, or signed out)', async () => {
    const api = server(new Set(['']));
    await new ApiClient({ fetch: api.fetch }).listThreads();
    const { session } = await signedIn();
    session.signOut();
    await new ApiClient({ fetch: api.fetch, tokens: session }).listThreads();
    expect(api.seen.map((s) => s.authorization)).toEqual([null, null]);
  });
});

describe('a 401', () => {
  it('refreshes once and sends the same request again with the new token', async () => {
    const api = server(new Set(['access-2']));
    const { identity, session } = await signedIn();
    const client = new ApiClient({ fetch: api.fetch, tokens: session });
    const events = await collect(client.streamAgent({ thread_id: 't1', message: 'Paris', use_hitl: true }));
    expect(events.map((e) => e.event)).toEqual(['metadata', 'interrupt']);
    expect(api.seen).toEqual([
      { method: 'POST', path: '/runs/stream', authorization: 'Bearer access-1' },
      { method: 'POST', path: '/runs/stream', authorization: 'Bearer access-2' },
    ]);
    expect(identity.refreshes).toBe(1);
    expect(session.getState().status).toBe('signedIn');
  });

  it('refused again after the refresh: no third try, the user is asked to sign in with the server’s reason', async () => {
    const api = server(new Set(), 'wrong audience');
    const { identity, session } = await signedIn();
    const client = new ApiClient({ fetch: api.fetch, tokens: session });
    const error = await client.listThreads().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect((error as ApiError).detail).toBe('wrong audience');
    expect(api.seen.map((s) => s.authorization)).toEqual(['Bearer access-1', 'Bearer access-2']);
    expect(identity.refreshes).toBe(1);
    expect(notice(session)).toBe('The server did not accept your sign-in (wrong audience). Sign in again.');
  });

  it('when the refresh token is refused too, does not retry and asks to sign in again', async () => {
    const api = server(new Set());
    const { identity, session } = await signedIn();
    identity.refreshAnswer = () => new AuthError('refused', 'Refresh Token has been revoked');
    const client = new ApiClient({ fetch: api.fetch, tokens: session });
    await expect(client.getThread('t1')).rejects.toMatchObject({ status: 401 });
    expect(api.seen).toHaveLength(1);
    expect(notice(session)).toBe('Your session has ended: Refresh Token has been revoked Sign in again.');
  });

  it('on a join stream too: refresh, rejoin with the new token', async () => {
    const api = server(new Set(['access-2']));
    const { session } = await signedIn();
    const client = new ApiClient({ fetch: api.fetch, tokens: session });
    const events = await collect(client.joinRun('t1', 'r1', { after: 0 }));
    expect(events.map((e) => e.event)).toEqual(['metadata', 'interrupt']);
    expect(api.seen.map((s) => `${s.path} ${s.authorization}`)).toEqual([
      '/threads/t1/runs/r1/stream Bearer access-1',
      '/threads/t1/runs/r1/stream Bearer access-2',
    ]);
  });

  it('two requests refused with the same old token share one refresh', async () => {
    const api = server(new Set(['access-2']));
    const { identity, session } = await signedIn();
    const client = new ApiClient({ fetch: api.fetch, tokens: session });
    await Promise.all([client.listThreads(), client.getRun('t1', 'r1')]);
    expect(identity.refreshes).toBe(1);
    expect(api.seen.filter((s) => s.authorization === 'Bearer access-2')).toHaveLength(2);
  });
});
