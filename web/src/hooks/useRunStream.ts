import { useCallback, useEffect, useRef, type Dispatch } from 'react';

import { ApiError, isAbortError, type ApiClient } from '../api/client';
import type { RunInput, StreamEvent } from '../api/types';
import type { Phase, ThreadAction } from '../lib/threadView';

export interface SendRequest {
  threadId: string;
  /** The task (new piece) or the human's feedback (resume); may be empty on resume. */
  message: string;
  resume: boolean;
  useHitl: boolean;
  maxRevisions: number;
  /** Where the thread stood before this send, to return there if the server refuses it. */
  priorPhase: Phase;
  /** A resend of a request the server never started: the chat already shows its message. */
  retry?: boolean;
}

interface ActiveRun {
  threadId: string;
  controller: AbortController;
  /** Aborted because the user opened another thread, not because they pressed Stop. */
  leftThread: boolean;
}

interface LastRun {
  request: SendRequest;
  /** The server accepted it (its metadata event arrived): a retry resumes instead of resending. */
  started: boolean;
}

export interface RunStream {
  send: (request: SendRequest) => Promise<void>;
  /** Stop reading the run (the server finishes the step it is on). */
  stop: () => void;
  /** After a failure: resume the thread, or resend a request the server never started. */
  retry: (threadId: string, priorPhase: Phase) => Promise<void>;
}

const STOPPED =
  '⏹️ Stopped watching. The server finishes the step it is on; this screen catches up when the thread pauses or ends.';
const BUSY =
  '⏳ This thread already has a run going (another tab?). This screen catches up when it pauses or ends.';

/**
 * Reads a run's stream into the thread view, one dispatch per event, so each node's message
 * shows the moment it arrives. One run at a time; opening another thread stops reading.
 */
export function useRunStream(
  client: ApiClient,
  threadId: string | null,
  dispatch: Dispatch<ThreadAction>,
  onSettled: (threadId: string) => void,
  refreshState: (threadId: string) => Promise<void>,
): RunStream {
  const active = useRef<ActiveRun | null>(null);
  const last = useRef<LastRun | null>(null);

  // Opening another thread stops reading this one's run; the server carries on regardless.
  useEffect(() => {
    const run = active.current;
    if (run && run.threadId !== threadId) {
      run.leftThread = true;
      run.controller.abort();
    }
  }, [threadId]);
  useEffect(
    () => () => {
      active.current?.controller.abort();
    },
    [],
  );

  const send = useCallback(
    async (request: SendRequest) => {
      active.current?.controller.abort();
      const run: ActiveRun = { threadId: request.threadId, controller: new AbortController(), leftThread: false };
      active.current = run;
      const record: LastRun = { request, started: false };
      last.current = record;
      const { threadId: id } = request;
      dispatch({
        type: 'send',
        threadId: id,
        text: request.message,
        resume: request.resume,
        retry: request.retry ?? false,
      });

      const input: RunInput = { thread_id: id, use_hitl: request.useHitl, max_revisions: request.maxRevisions };
      if (request.message) input.message = request.message;
      let final: StreamEvent | null = null;
      try {
        for await (const event of client.streamAgent(input, { signal: run.controller.signal })) {
          if (event.event === 'metadata') record.started = true;
          final = event;
          dispatch({ type: 'event', threadId: id, event });
        }
        if (final?.event === 'resync') {
          if (final.thread?.status === 'busy') record.started = true;
        } else {
          // The panels show what the server stored (sources grouped by query, edits applied).
          await refreshState(id);
        }
      } catch (error) {
        if (run.leftThread) return;
        if (isAbortError(error) || run.controller.signal.aborted) {
          record.started = true;
          dispatch({ type: 'watching', threadId: id, message: STOPPED });
        } else if (error instanceof ApiError && error.status === 409) {
          dispatch({ type: 'watching', threadId: id, message: BUSY });
        } else if (error instanceof ApiError) {
          dispatch({ type: 'failed', threadId: id, message: error.detail, retry: false, phase: request.priorPhase });
        } else {
          const message = error instanceof Error ? error.message : String(error);
          dispatch({ type: 'failed', threadId: id, message: `The run failed in the browser: ${message}`, retry: true });
        }
      } finally {
        if (active.current === run) active.current = null;
        onSettled(id);
      }
    },
    [client, dispatch, onSettled, refreshState],
  );

  const stop = useCallback(() => {
    active.current?.controller.abort();
  }, []);

  const retry = useCallback(
    async (id: string, priorPhase: Phase) => {
      const previous = last.current;
      if (previous && !previous.started && previous.request.threadId === id) {
        await send({ ...previous.request, priorPhase, retry: true });
        return;
      }
      const settings = previous?.request ?? { useHitl: true, maxRevisions: 2 };
      await send({
        threadId: id,
        message: '',
        resume: true,
        useHitl: settings.useHitl,
        maxRevisions: settings.maxRevisions,
        priorPhase,
        retry: true,
      });
    },
    [send],
  );

  return { send, stop, retry };
}
