// The sidebar's thread list as a pure reducer: pages of GET /threads as the server listed them,
// plus what this screen knows sooner than the list can (a run it is reading, how a run it read
// ended, a thread it deleted).
import type { Thread, ThreadPage, ThreadStatus } from '../api/types';

export const PAGE_SIZE = 20;

/** How a run this screen read ended, as its own final event said. */
export interface EndedRun {
  runId: string;
  status: ThreadStatus;
}

interface Local {
  /** This screen is reading a run of the thread. */
  running?: boolean;
  /** The task just sent, until the server's list has the thread's title. */
  title?: string;
  /** A run whose final event this screen read: a list still naming that very run busy (its
   * lease not yet let go) shows how it ended instead. */
  ended?: EndedRun;
}

export interface ThreadListState {
  /** The loaded pages, in the server's order, each thread once. */
  threads: Thread[];
  /** The cursor of the next page to load; null when the last page is loaded. */
  nextCursor: string | null;
  /** Pages loaded so far (0 before the first answer). */
  pages: number;
  /** Threads deleted from this screen: a page answer already on its way does not bring them back. */
  deleted: string[];
  local: Record<string, Local>;
}

export interface ListedThread {
  threadId: string;
  /** The task, or '' before the thread has one. */
  title: string;
  status: ThreadStatus;
  updatedAt: string;
}

export type ThreadListAction =
  /** The first page, read afresh (at start, after a run settles, on coming back to the tab). */
  | { type: 'firstPage'; page: ThreadPage }
  /** The page after the loaded ones ("Load more"). */
  | { type: 'nextPage'; page: ThreadPage }
  /** One thread read on its own (opened, created). */
  | { type: 'thread'; thread: Thread }
  | { type: 'running'; threadId: string; title?: string | undefined }
  | { type: 'settled'; threadId: string; ended: EndedRun | null }
  | { type: 'deleted'; threadId: string };

export const initialThreadList: ThreadListState = { threads: [], nextCursor: null, pages: 0, deleted: [], local: {} };

function unique(threads: Thread[], deleted: string[]): Thread[] {
  const seen = new Set(deleted);
  return threads.filter((t) => !seen.has(t.thread_id) && (seen.add(t.thread_id), true));
}

/** Drops what the server now says itself: an `ended` whose run no longer reads busy. */
function settle(local: Record<string, Local>, threads: Thread[]): Record<string, Local> {
  const byId = new Map(threads.map((t) => [t.thread_id, t]));
  const next: Record<string, Local> = {};
  for (const [id, entry] of Object.entries(local)) {
    const thread = byId.get(id);
    const { ended, title, ...rest } = entry;
    const kept: Local = { ...rest };
    if (ended && !(thread && (thread.status !== 'busy' || thread.run_id !== ended.runId))) kept.ended = ended;
    if (title && !thread?.title) kept.title = title;
    if (Object.keys(kept).length) next[id] = kept;
  }
  return next;
}

function byActivity(a: Thread, b: Thread): number {
  return b.updated_at.localeCompare(a.updated_at);
}

export function threadListReducer(state: ThreadListState, action: ThreadListAction): ThreadListState {
  switch (action.type) {
    case 'firstPage': {
      const fresh = action.page.threads;
      let threads: Thread[];
      let nextCursor = action.page.next_cursor;
      if (state.pages <= 1 || !nextCursor) {
        threads = fresh;
      } else {
        // Later pages stay loaded: keep the threads older than the fresh page's last one, and
        // the cursor that continues after them.
        const oldest = fresh[fresh.length - 1]?.updated_at ?? '';
        threads = [...fresh, ...state.threads.filter((t) => t.updated_at <= oldest)];
        nextCursor = state.nextCursor;
      }
      threads = unique(threads, state.deleted);
      return { ...state, threads, nextCursor, pages: Math.max(state.pages, 1), local: settle(state.local, threads) };
    }
    case 'nextPage': {
      const threads = unique([...state.threads, ...action.page.threads], state.deleted);
      return { ...state, threads, nextCursor: action.page.next_cursor, pages: state.pages + 1, local: settle(state.local, threads) };
    }
    case 'thread': {
      const { thread } = action;
      if (state.deleted.includes(thread.thread_id)) return state;
      const known = state.threads.some((t) => t.thread_id === thread.thread_id);
      const threads = known
        ? state.threads.map((t) => (t.thread_id === thread.thread_id ? { ...t, ...thread, title: thread.title ?? t.title ?? null } : t))
        : [...state.threads, thread].sort(byActivity);
      return { ...state, threads, local: settle(state.local, threads) };
    }
    case 'running': {
      const { threadId, title } = action;
      if (state.deleted.includes(threadId)) return state;
      const entry: Local = { ...state.local[threadId], running: true };
      if (title) entry.title = title;
      // A thread the list has not got yet (just created): at the top, where its activity puts it.
      const threads = state.threads.some((t) => t.thread_id === threadId)
        ? state.threads
        : [placeholder(threadId), ...state.threads];
      return { ...state, threads, local: { ...state.local, [threadId]: entry } };
    }
    case 'settled': {
      const entry: Local = { ...state.local[action.threadId] };
      delete entry.running;
      if (action.ended) entry.ended = action.ended;
      return { ...state, local: { ...state.local, [action.threadId]: entry } };
    }
    case 'deleted': {
      const local = { ...state.local };
      delete local[action.threadId];
      return {
        ...state,
        threads: state.threads.filter((t) => t.thread_id !== action.threadId),
        deleted: [...state.deleted, action.threadId],
        local,
      };
    }
  }
}

function placeholder(threadId: string): Thread {
  const now = new Date().toISOString();
  return { thread_id: threadId, created_at: now, updated_at: now, metadata: {}, status: 'busy', title: null, error: null, run_id: null };
}

/** The rows the sidebar shows. */
export function listedThreads(state: ThreadListState): ListedThread[] {
  return state.threads.map((thread) => {
    const local = state.local[thread.thread_id];
    let status = thread.status;
    if (local?.running) status = 'busy';
    // A thread the server has not listed yet has no run id: its run is the one that ended.
    else if (local?.ended && status === 'busy' && (thread.run_id ?? local.ended.runId) === local.ended.runId) {
      status = local.ended.status;
    }
    return {
      threadId: thread.thread_id,
      title: thread.title || local?.title || '',
      status,
      updatedAt: thread.updated_at,
    };
  });
}
