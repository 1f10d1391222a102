import { describe, expect, it } from 'vitest';

import { ApiClient } from '../api/client';
import type { Thread, ThreadPage } from '../api/types';
import { PAGE_SIZE, initialThreadList, listedThreads, threadListReducer, type ThreadListAction, type ThreadListState } from './threadList';

function thread(n: number, change: Partial<Thread> = {}): Thread {
  // Higher n = more recent activity.
  const at = new Date(Date.UTC(2026, 10, 24, 0, 0, n)).toISOString();
  return { thread_id: `t${n}`, created_at: at, updated_at: at, metadata: {}, status: 'interrupted', run_id: `r${n}`, title: `Task ${n}`, error: null, ...change };
}

/** The server's threads t<count>…t1, newest first, as GET /threads pages them. */
function pages(count: number, size = 3): ThreadPage[] {
  const all = Array.from({ length: count }, (_, i) => thread(count - i));
  const result: ThreadPage[] = [];
  for (let i = 0; i < all.length; i += size) {
    result.push({ threads: all.slice(i, i + size), next_cursor: i + size < all.length ? `c${i + size}` : null });
  }
  return result;
}

function run(...actions: ThreadListAction[]): ThreadListState {
  return actions.reduce(threadListReducer, initialThreadList);
}

const ids = (state: ThreadListState) => listedThreads(state).map((t) => t.threadId);

describe('the thread list pages through GET /threads', () => {
  it('asks for 20 at a time, passing the previous page’s cursor', async () => {
    const urls: string[] = [];
    const fetchImpl = (async (input: RequestInfo | URL) => {
      urls.push(String(input));
      return Response.json({ threads: [], next_cursor: null });
    }) as typeof fetch;
    const client = new ApiClient({ apiUrl: 'https://api.example', fetch: fetchImpl });
    await client.listThreads({ limit: PAGE_SIZE });
    await client.listThreads({ limit: PAGE_SIZE, cursor: 'eyJrIjoiYi8rPSJ9' });
    expect(urls).toEqual([
      'https://api.example/threads?limit=20',
      'https://api.example/threads?limit=20&cursor=eyJrIjoiYi8rPSJ9',
    ]);
  });

  it('shows the first page, then appends each next page until the cursor is null', () => {
    const [p1, p2, p3] = pages(7);
    let state = run({ type: 'firstPage', page: p1! });
    expect(ids(state)).toEqual(['t7', 't6', 't5']);
    expect(state.nextCursor).toBe('c3');
    state = threadListReducer(state, { type: 'nextPage', page: p2! });
    state = threadListReducer(state, { type: 'nextPage', page: p3! });
    expect(ids(state)).toEqual(['t7', 't6', 't5', 't4', 't3', 't2', 't1']);
    expect(state.nextCursor).toBeNull();
  });

  it('shows a thread once when it moved between pages while paging', () => {
    const [p1] = pages(6);
    // t4 got new activity after page 1 was read: the server's page 2 now starts with t5 again.
    const shifted: ThreadPage = { threads: [thread(5), thread(3), thread(2)], next_cursor: 'c5' };
    const state = run({ type: 'firstPage', page: p1! }, { type: 'nextPage', page: shifted });
    expect(ids(state)).toEqual(['t6', 't5', 't4', 't3', 't2']);
  });

  it('a refresh with one page loaded takes the server’s first page as it is now', () => {
    const [p1] = pages(4);
    const now: ThreadPage = { threads: [thread(9), thread(4), thread(3)], next_cursor: 'x' };
    const state = run({ type: 'firstPage', page: p1! }, { type: 'firstPage', page: now });
    expect(ids(state)).toEqual(['t9', 't4', 't3']);
    expect(state.nextCursor).toBe('x');
  });

  it('a refresh keeps the later pages loaded, and the cursor that continues after them', () => {
    const [p1, p2] = pages(9);
    const now: ThreadPage = { threads: [thread(10), thread(9), thread(8)], next_cursor: 'fresh' };
    const state = run({ type: 'firstPage', page: p1! }, { type: 'nextPage', page: p2! }, { type: 'firstPage', page: now });
    expect(ids(state)).toEqual(['t10', 't9', 't8', 't7', 't6', 't5', 't4']);
    expect(state.nextCursor).toBe('c6');
  });

  it('titles a thread by its task, or by the task just sent until the server has one', () => {
    const untitled = thread(1, { title: null, status: 'idle' });
    let state = run({ type: 'firstPage', page: { threads: [untitled], next_cursor: null } });
    expect(listedThreads(state)[0]?.title).toBe('');
    state = threadListReducer(state, { type: 'running', threadId: 't1', title: 'Write about Oslo' });
    expect(listedThreads(state)[0]).toMatchObject({ title: 'Write about Oslo', status: 'busy' });
    state = threadListReducer(state, { type: 'firstPage', page: { threads: [thread(1, { title: 'Write about Oslo' })], next_cursor: null } });
    expect(state.local.t1?.title).toBeUndefined();
  });
});

describe('what this screen knows before the list does', () => {
  it('a run being read shows busy, even when a page read before it started says otherwise', () => {
    const state = run(
      { type: 'firstPage', page: { threads: [thread(1)], next_cursor: null } },
      { type: 'running', threadId: 't1' },
      { type: 'firstPage', page: { threads: [thread(1, { status: 'idle' })], next_cursor: null } },
    );
    expect(listedThreads(state)[0]?.status).toBe('busy');
  });

  it('a new thread shows at the top as soon as its run starts', () => {
    const state = run({ type: 'firstPage', page: { threads: [thread(1)], next_cursor: null } }, { type: 'running', threadId: 'new', title: 'Write about Porto' });
    expect(listedThreads(state).map((t) => [t.threadId, t.title, t.status])).toEqual([
      ['new', 'Write about Porto', 'busy'],
      ['t1', 'Task 1', 'interrupted'],
    ]);
  });

  it('a run that ended shows how, while the list still names that run busy; the list wins after', () => {
    const busy = thread(1, { status: 'busy', run_id: 'r9' });
    let state = run(
      { type: 'firstPage', page: { threads: [busy], next_cursor: null } },
      { type: 'running', threadId: 't1' },
      { type: 'settled', threadId: 't1', ended: { runId: 'r9', status: 'interrupted' } },
      { type: 'firstPage', page: { threads: [busy], next_cursor: null } },
    );
    expect(listedThreads(state)[0]?.status).toBe('interrupted');
    // Another run (another tab) holds it now: that is news, shown as it is.
    state = threadListReducer(state, { type: 'firstPage', page: { threads: [thread(1, { status: 'busy', run_id: 'r10' })], next_cursor: null } });
    expect(listedThreads(state)[0]?.status).toBe('busy');
    expect(state.local.t1).toBeUndefined();
  });

  it('a created or opened thread joins the list by its activity; a read of a listed one updates it', () => {
    let state = run({ type: 'firstPage', page: { threads: [thread(5), thread(3)], next_cursor: null } });
    state = threadListReducer(state, { type: 'thread', thread: thread(4, { title: null }) });
    state = threadListReducer(state, { type: 'thread', thread: thread(3, { status: 'error', title: undefined }) });
    expect(listedThreads(state).map((t) => [t.threadId, t.status, t.title])).toEqual([
      ['t5', 'interrupted', 'Task 5'],
      ['t4', 'interrupted', ''],
      ['t3', 'error', 'Task 3'],
    ]);
  });

  it('a deleted thread stays gone when a page read before the delete arrives after it', () => {
    const page = { threads: [thread(2), thread(1)], next_cursor: null };
    const state = run(
      { type: 'firstPage', page },
      { type: 'deleted', threadId: 't2' },
      { type: 'firstPage', page },
      { type: 'thread', thread: thread(2) },
      { type: 'running', threadId: 't2' },
    );
    expect(ids(state)).toEqual(['t1']);
  });
});
