import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';

import { ApiError, type ApiClient } from '../api/client';
import type { Thread } from '../api/types';
import {
  PAGE_SIZE,
  initialThreadList,
  listedThreads,
  threadListReducer,
  type EndedRun,
  type ListedThread,
} from '../lib/threadList';

export type { EndedRun, ListedThread } from '../lib/threadList';

// Before the API listed threads, this browser kept its own list here. The server's list
// replaces it; what is left in a browser is someone's old titles, so it goes.
const RETIRED_KEY = 'wayfarer.recentThreads.v1';

export interface ThreadList {
  threads: ListedThread[];
  /** More pages on the server ("Load more"). */
  hasMore: boolean;
  /** The first page, or the next one asked for, is being read. */
  loading: boolean;
  /** The last read failed (the list shows what it had). */
  problem: string | null;
  loadMore: () => Promise<void>;
  /** Re-read the first page. */
  refresh: () => Promise<void>;
  /** A thread read on its own (opened, created): its row shows the same. */
  seen: (thread: Thread) => void;
  /** This screen started reading a run of the thread (with its task, when it is the start). */
  running: (threadId: string, title?: string) => void;
  /** Reading ended (`ended`: how, when the run's own final event said); the list is re-read. */
  settled: (threadId: string, ended: EndedRun | null) => void;
  /** Delete on the server, then from the list. Throws ApiError (409 while a run is going). */
  remove: (threadId: string) => Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The signed-in user's threads, from GET /threads, newest activity first, a page at a time. */
export function useThreads(client: ApiClient): ThreadList {
  const [state, dispatch] = useReducer(threadListReducer, initialThreadList);
  const [loadingMore, setLoadingMore] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  // Only the newest first-page read lands: an older answer must not undo a newer one.
  const firstPageRead = useRef(0);
  const mounted = useRef(true);

  const refresh = useCallback(() => {
    const read = ++firstPageRead.current;
    const current = () => mounted.current && read === firstPageRead.current;
    return client.listThreads({ limit: PAGE_SIZE }).then(
      (page) => {
        if (!current()) return;
        dispatch({ type: 'firstPage', page });
        setProblem(null);
      },
      (error: unknown) => {
        if (current()) setProblem(`Could not list your threads: ${describe(error)}`);
      },
    );
  }, [client]);

  const cursor = state.nextCursor;
  const loadMore = useCallback(async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await client.listThreads({ limit: PAGE_SIZE, cursor });
      if (!mounted.current) return;
      dispatch({ type: 'nextPage', page });
      setProblem(null);
    } catch (error) {
      if (mounted.current) setProblem(`Could not load more threads: ${describe(error)}`);
    } finally {
      if (mounted.current) setLoadingMore(false);
    }
  }, [client, cursor]);

  useEffect(() => {
    mounted.current = true;
    try {
      window.localStorage.removeItem(RETIRED_KEY);
    } catch {
      // storage unavailable: nothing kept there either
    }
    void refresh();
    // Threads started elsewhere (curl, another tab) show when the user comes back to this tab.
    const onVisible = () => {
      if (document.visibilityState === 'visible') void refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      mounted.current = false;
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [refresh]);

  const seen = useCallback((thread: Thread) => dispatch({ type: 'thread', thread }), []);
  const running = useCallback((threadId: string, title?: string) => dispatch({ type: 'running', threadId, title }), []);
  const settled = useCallback(
    (threadId: string, ended: EndedRun | null) => {
      dispatch({ type: 'settled', threadId, ended });
      void refresh();
    },
    [refresh],
  );

  const remove = useCallback(
    async (threadId: string) => {
      try {
        await client.deleteThread(threadId);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      dispatch({ type: 'deleted', threadId });
    },
    [client],
  );

  const threads = useMemo(() => listedThreads(state), [state]);
  const loading = loadingMore || (state.pages === 0 && problem === null);
  return { threads, hasMore: !!state.nextCursor, loading, problem, loadMore, refresh, seen, running, settled, remove };
}
