import { useCallback, useEffect, useRef, type Dispatch } from 'react';

import { ApiError, type ApiClient } from '../api/client';
import type { RunInput, StreamEvent, ThreadStatus } from '../api/types';
import { isFinalEvent } from '../api/types';
import type { Phase, ThreadAction } from '../lib/threadView';
import type { RunSettings } from './useRunSettings';
import type { EndedRun } from './useThreads';

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
  /** Aborted when this screen stops reading: another thread opened, another read took over, or
   * the page went away. The run itself goes on on the server. */
  controller: AbortController;
  /** Named by the run's first event, or known before joining. */
  runId: string | null;
  /** Stop was pressed: cancel as soon as the run id is known. */
  stopping: boolean;
  cancelSent: boolean;
}

interface LastRun {
  request: SendRequest;
  /** The server accepted it (its metadata event arrived): a retry resumes instead of resending. */
  started: boolean;
}

export interface RunStreamCallbacks {
  dispatch: Dispatch<ThreadAction>;
  /** Re-read values and next node after a run (sources grouped by query, edits applied). */
  refreshState: (threadId: string) => Promise<void>;
  /** This screen started reading a run of the thread: it is busy. */
  onRunning: (threadId: string) => void;
  /** Reading ended; `ended` says how when the run's own final event did. */
  onSettled: (threadId: string, ended: EndedRun | null) => void;
}

export interface RunStream {
  send: (request: SendRequest) => Promise<void>;
  /** Follow a run the server is busy with (another tab's, or one going on before a reload). */
  join: (threadId: string, runId: string) => Promise<void>;
  /** Cancel the run being read: the server drops the node in progress, the stream ends with an
   * interrupt (reason "cancelled"), and Send redoes that node. */
  stop: () => void;
  /** After a failure: resume the thread with `settings`, or resend a request the server never started. */
  retry: (threadId: string, priorPhase: Phase, settings: RunSettings) => Promise<void>;
}

const CANCELLING = '⏹️ Cancelling the step in progress…';
const BUSY_JOINING = '⏳ This thread already has a run going (another tab?), so nothing was sent.';
const BUSY_WATCHING =
  '⏳ This thread already has a run going (another tab?). This screen catches up when it pauses or ends.';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const STATUS_AFTER: Record<string, ThreadStatus> = { interrupt: 'interrupted', complete: 'idle', error: 'error' };

/** How the thread stands after the run's own final event (a resync is no word from the run). */
function endedBy(final: StreamEvent | null): EndedRun | null {
  if (!final || final.event === 'resync') return null;
  const status = STATUS_AFTER[final.event];
  return status ? { runId: final.run_id, status } : null;
}

/**
 * Reads a run's stream into the thread view, one dispatch per event, so each node's message
 * shows the moment it arrives; a run joined midway shows its replay in one go. One run at a
 * time; opening another thread stops reading (the run goes on). A thread loaded busy with a
 * named run (`follow`) is joined.
 */
export function useRunStream(
  client: ApiClient,
  threadId: string | null,
  follow: { threadId: string | null; runId: string | null },
  { dispatch, refreshState, onRunning, onSettled }: RunStreamCallbacks,
): RunStream {
  const active = useRef<ActiveRun | null>(null);
  const last = useRef<LastRun | null>(null);

  // Opening another thread stops reading this one's run; the server carries on regardless.
  useEffect(() => {
    const run = active.current;
    if (run && run.threadId !== threadId) run.controller.abort();
  }, [threadId]);
  useEffect(
    () => () => {
      active.current?.controller.abort();
    },
    [],
  );

  const begin = useCallback((id: string): ActiveRun => {
    active.current?.controller.abort();
    const run: ActiveRun = { threadId: id, controller: new AbortController(), runId: null, stopping: false, cancelSent: false };
    active.current = run;
    return run;
  }, []);

  const cancel = useCallback(
    async (run: ActiveRun) => {
      if (!run.runId || run.cancelSent) return;
      run.cancelSent = true;
      try {
        await client.cancelRun(run.threadId, run.runId);
      } catch (error) {
        // 409: the run ended on its own meanwhile; its final event is on its way to this reader.
        if ((error instanceof ApiError && error.status === 409) || run.controller.signal.aborted) return;
        run.stopping = false;
        run.cancelSent = false;
        dispatch({
          type: 'notice',
          threadId: run.threadId,
          tone: 'error',
          text: `❌ Could not cancel the run: ${describe(error)}. It goes on; press Stop to try again.`,
        });
      }
    },
    [client, dispatch],
  );

  /** Dispatches the events of one run; those up to `replayUntil` (a join's replay) as one batch. */
  const read = useCallback(
    async (run: ActiveRun, events: AsyncIterable<StreamEvent>, replayUntil = 0): Promise<StreamEvent | null> => {
      const { threadId: id } = run;
      let final: StreamEvent | null = null;
      let replay: StreamEvent[] = [];
      for await (const event of events) {
        final = event;
        if (event.event !== 'resync') {
          run.runId = event.run_id;
          if (run.stopping) void cancel(run);
        }
        const replayed = event.event !== 'resync' && event.seq <= replayUntil;
        if (!replayed && !replay.length) {
          dispatch({ type: 'event', threadId: id, event });
          continue;
        }
        replay.push(event);
        if (replayed && event.seq < replayUntil && !isFinalEvent(event)) continue;
        dispatch({ type: 'events', threadId: id, events: replay });
        replay = [];
      }
      return final;
    },
    [cancel, dispatch],
  );

  const join = useCallback(
    async (id: string, runId: string) => {
      const run = begin(id);
      run.runId = runId;
      dispatch({ type: 'join', threadId: id, runId });
      onRunning(id);
      let ended: EndedRun | null = null;
      try {
        // How far the run has got: the events up to there are a replay, shown in one go.
        const known = await client.getRun(id, runId).catch(() => null);
        const signal = run.controller.signal;
        const final = await read(run, client.joinRun(id, runId, { signal }), known?.last_seq ?? 0);
        ended = endedBy(final);
        if (ended) await refreshState(id);
      } catch (error) {
        if (run.controller.signal.aborted) return;
        dispatch({ type: 'failed', threadId: id, message: `Following the run failed in the browser: ${describe(error)}`, retry: true });
      } finally {
        if (active.current === run) active.current = null;
        onSettled(id, ended);
      }
    },
    [begin, client, dispatch, onRunning, onSettled, read, refreshState],
  );

  const send = useCallback(
    async (request: SendRequest) => {
      const run = begin(request.threadId);
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
      onRunning(id);

      const input: RunInput = { thread_id: id, use_hitl: request.useHitl, max_revisions: request.maxRevisions };
      if (request.message) input.message = request.message;
      let ended: EndedRun | null = null;
      let busyWith: string | null = null;
      try {
        const final = await read(run, client.streamAgent(input, { signal: run.controller.signal }));
        if (final?.event === 'resync' && final.thread?.status === 'busy') record.started = true;
        ended = endedBy(final);
        // The panels show what the server stored (sources grouped by query, edits applied).
        if (ended) await refreshState(id);
      } catch (error) {
        if (run.controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 409) {
          // Another run holds the thread: follow it here instead of waiting blind.
          busyWith =
            error.runId ??
            (await client.getThread(id).then(
              (thread) => (thread.status === 'busy' ? (thread.run_id ?? null) : null),
              () => null,
            ));
          if (busyWith) dispatch({ type: 'notice', threadId: id, tone: 'info', text: BUSY_JOINING });
          else dispatch({ type: 'watching', threadId: id, message: BUSY_WATCHING });
        } else if (error instanceof ApiError) {
          dispatch({ type: 'failed', threadId: id, message: error.detail, retry: false, phase: request.priorPhase });
        } else {
          dispatch({ type: 'failed', threadId: id, message: `The run failed in the browser: ${describe(error)}`, retry: true });
        }
      } finally {
        // A run id means the server took the request: a retry resumes rather than resends.
        if (run.runId) record.started = true;
        if (active.current === run) active.current = null;
        onSettled(id, ended);
      }
      if (busyWith) await join(id, busyWith);
    },
    [begin, client, dispatch, join, onRunning, onSettled, read, refreshState],
  );

  // A thread loaded busy with a named run: join it.
  const { threadId: followThread, runId: followRun } = follow;
  useEffect(() => {
    if (followThread && followRun) void join(followThread, followRun);
  }, [followThread, followRun, join]);

  const stop = useCallback(() => {
    const run = active.current;
    if (!run || run.stopping) return;
    run.stopping = true;
    dispatch({ type: 'notice', threadId: run.threadId, tone: 'info', text: CANCELLING });
    // Before the first event names the run, the reader sends the cancel as soon as it can.
    void cancel(run);
  }, [cancel, dispatch]);

  const retry = useCallback(
    async (id: string, priorPhase: Phase, settings: RunSettings) => {
      const previous = last.current;
      if (previous && !previous.started && previous.request.threadId === id) {
        await send({ ...previous.request, priorPhase, retry: true });
        return;
      }
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

  return { send, join, stop, retry };
}
