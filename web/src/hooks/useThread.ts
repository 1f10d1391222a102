import { useCallback, useEffect, useReducer, type Dispatch } from 'react';

import { ApiError, type ApiClient } from '../api/client';
import type { Thread } from '../api/types';
import { sleep } from '../lib/sleep';
import { initialView, threadViewReducer, type ThreadAction, type ThreadView } from '../lib/threadView';

/** How often a busy thread is checked while this screen waits for it. */
const POLL_MS = 1500;
/** A Lambda run lasts 15 minutes at most; stop checking well after that. */
const MAX_POLLS = 800;

export interface ThreadHandle {
  view: ThreadView;
  dispatch: Dispatch<ThreadAction>;
  /** Re-read values and next node from the server, keeping the conversation on screen. */
  refreshState: (threadId: string) => Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The open thread: loaded when chosen; a busy thread whose run cannot be joined is checked until
 * it is not. `onThread` hears every Thread read, so the thread list can show the same status.
 */
export function useThread(
  client: ApiClient,
  threadId: string | null,
  onThread: (thread: Thread) => void,
): ThreadHandle {
  const [view, dispatch] = useReducer(threadViewReducer, threadId, initialView);

  useEffect(() => {
    if (!threadId) {
      dispatch({ type: 'reset', threadId: null });
      return;
    }
    const controller = new AbortController();
    dispatch({ type: 'select', threadId });
    Promise.all([client.getThread(threadId), client.getState(threadId)])
      .then(([thread, state]) => {
        if (controller.signal.aborted) return;
        dispatch({ type: 'loaded', threadId, thread, state });
        onThread(thread);
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) {
          // Sending a task on this id starts it afresh (the API creates unknown ids).
          const message = `Thread ${threadId} does not exist on the server (deleted or expired). Send a task to start it anew, or open another thread.`;
          dispatch({ type: 'missing', threadId, message, phase: 'idle' });
        } else {
          // Send resumes whatever the server has; it refuses with a clear message if there is nothing to resume.
          const message = `Could not load thread ${threadId}: ${describe(error)}. Reload the page to try again.`;
          dispatch({ type: 'missing', threadId, message, phase: 'failed' });
        }
      });
    return () => controller.abort();
  }, [client, threadId, onThread]);

  // A run this screen is not reading and will not join (following it failed, or the server did
  // not name it): check until the thread is no longer busy, then show it as the server has it.
  const watchedThread = view.phase === 'watching' && !view.follow ? view.threadId : null;
  useEffect(() => {
    if (!watchedThread) return;
    const controller = new AbortController();
    const { signal } = controller;
    (async () => {
      for (let poll = 0; poll < MAX_POLLS; poll++) {
        await sleep(POLL_MS, signal);
        const thread = await client.getThread(watchedThread);
        if (thread.status === 'busy') continue;
        const state = await client.getState(watchedThread);
        if (signal.aborted) return;
        dispatch({ type: 'loaded', threadId: watchedThread, thread, state });
        onThread(thread);
        return;
      }
      dispatch({
        type: 'failed',
        threadId: watchedThread,
        message: 'The server still reports this thread busy. Reload the page later to see it.',
        retry: false,
      });
    })().catch((error: unknown) => {
      if (signal.aborted) return;
      dispatch({
        type: 'failed',
        threadId: watchedThread,
        message: `Lost the server while waiting for the run: ${describe(error)}`,
        retry: true,
      });
    });
    return () => controller.abort();
  }, [client, watchedThread, onThread]);

  const refreshState = useCallback(
    async (id: string) => {
      try {
        dispatch({ type: 'state', threadId: id, state: await client.getState(id) });
      } catch {
        // The screen keeps what the stream said; the next load corrects it.
      }
    },
    [client],
  );

  return { view, dispatch, refreshState };
}
