import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';

import { ApiError, type ApiClient } from '../api/client';
import type { ThreadStatus } from '../api/types';
import { readStored, writeStored } from '../lib/storage';

// The API has no "list threads" route: this browser remembers the threads it made, and asks
// the API for each one's status (dropping the ones the server no longer has).

export interface RecentThread {
  threadId: string;
  /** The first task written on the thread. */
  title: string;
  status: ThreadStatus | 'unknown';
  updatedAt: string;
}

const KEY = 'wayfarer.recentThreads.v1';
const MAX_THREADS = 30;

function parse(raw: unknown): RecentThread[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((item): item is RecentThread => typeof item?.threadId === 'string')
    .map((item) => ({
      threadId: item.threadId,
      title: typeof item.title === 'string' ? item.title : '',
      status: item.status ?? 'unknown',
      updatedAt: typeof item.updatedAt === 'string' ? item.updatedAt : '',
    }));
}

function sorted(threads: RecentThread[]): RecentThread[] {
  return [...threads].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, MAX_THREADS);
}

/** How a run this screen read ended, as its own stream said. */
export interface EndedRun {
  runId: string;
  status: ThreadStatus;
}

export interface RecentThreads {
  threads: RecentThread[];
  /** Add or update a thread in the list. */
  remember: (threadId: string, change?: Partial<Omit<RecentThread, 'threadId'>>) => void;
  /**
   * Re-read one thread's status from the API. With `ended` (a run whose final event this screen
   * read), that status shows at once, and a server still naming that very run busy (its lease
   * not yet let go) does not bring "running" back.
   */
  refreshOne: (threadId: string, ended?: EndedRun | null) => Promise<void>;
  /** Delete on the server, then forget. Throws ApiError (409 while a run is going). */
  remove: (threadId: string) => Promise<void>;
}

export function useThreads(client: ApiClient): RecentThreads {
  const [threads, setThreads] = useState<RecentThread[]>(() => sorted(readStored(KEY, parse, [])));

  // A layout effect: stored in the same task as the change is shown, so a reload or a closed
  // tab right after a delete cannot bring the thread back.
  useLayoutEffect(() => writeStored(KEY, threads), [threads]);

  // Another tab changed the list.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === KEY) setThreads(sorted(readStored(KEY, parse, [])));
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  // Deleted in this tab: a status answer still on its way must not bring one back.
  const deleted = useRef(new Set<string>());

  const remember = useCallback((threadId: string, change: Partial<Omit<RecentThread, 'threadId'>> = {}) => {
    if (deleted.current.has(threadId)) return;
    setThreads((current) => {
      const known = current.find((t) => t.threadId === threadId);
      const base: RecentThread = known ?? { threadId, title: '', status: 'unknown', updatedAt: new Date().toISOString() };
      const merged = { ...base, ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) };
      // Keep the first task as the title.
      if (known?.title) merged.title = known.title;
      return sorted([merged, ...current.filter((t) => t.threadId !== threadId)]);
    });
  }, []);

  const forget = useCallback((threadId: string) => {
    setThreads((current) => current.filter((t) => t.threadId !== threadId));
  }, []);

  const refreshOne = useCallback(
    async (threadId: string, ended?: EndedRun | null) => {
      if (ended) remember(threadId, { status: ended.status });
      try {
        const thread = await client.getThread(threadId);
        const stale = !!ended && thread.status === 'busy' && thread.run_id === ended.runId;
        remember(threadId, { status: stale && ended ? ended.status : thread.status, updatedAt: thread.updated_at });
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) forget(threadId);
        // Unreachable server: keep what we knew.
      }
    },
    [client, remember, forget],
  );

  // Once at start: statuses from the API, and threads the server no longer has dropped.
  useEffect(() => {
    const known = readStored(KEY, parse, []);
    void Promise.all(known.map((t) => refreshOne(t.threadId)));
  }, [refreshOne]);

  const remove = useCallback(
    async (threadId: string) => {
      try {
        await client.deleteThread(threadId);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      deleted.current.add(threadId);
      forget(threadId);
    },
    [client, forget],
  );

  return { threads, remember, refreshOne, remove };
}
