import { useEffect, useState } from 'react';

import { ChatLog } from './components/ChatLog';
import { Composer } from './components/Composer';
import { GraphView } from './components/GraphView';
import { LiveAnnouncer } from './components/LiveAnnouncer';
import { ThreadList } from './components/ThreadList';
import { UserBadge } from './components/UserBadge';
import { WorkPanels } from './components/WorkPanels';
import { useApiClient } from './hooks/useApiClient';
import { useRunSettings } from './hooks/useRunSettings';
import { useRunStream } from './hooks/useRunStream';
import { useSelectedThread } from './hooks/useSelectedThread';
import { useServerHealth } from './hooks/useServerHealth';
import { EDITABLE_FIELDS, useStateEdits } from './hooks/useStateEdits';
import { useThread } from './hooks/useThread';
import { useThreads } from './hooks/useThreads';
import { sendMode, type Phase } from './lib/threadView';

const PHASE_TEXT: Record<Phase, string> = {
  empty: 'No thread',
  loading: 'Loading',
  idle: 'Ready',
  running: 'Running',
  paused: 'Paused',
  complete: 'Complete',
  failed: 'Failed',
  watching: 'Running on server',
};

export function App() {
  const client = useApiClient();
  const health = useServerHealth(client);
  const [threadId, selectThread] = useSelectedThread();
  const threads = useThreads(client);
  // The list shows each thread as the server last said, whichever part of the screen asked.
  const { seen: onThread, running: onRunning, settled: onSettled } = threads;
  const { view, dispatch, refreshState } = useThread(client, threadId, onThread);
  const [settings, changeSettings] = useRunSettings(view.threadId, view.values.max_revisions);
  const edits = useStateEdits(client, threadId, view.values, dispatch);
  const run = useRunStream(
    client,
    threadId,
    { threadId: view.threadId, runId: view.follow },
    { dispatch, refreshState, onRunning, onSettled },
  );
  const [text, setText] = useState('');
  const [starting, setStarting] = useState(false);
  const [threadsOpen, setThreadsOpen] = useState(false);

  const open = (id: string | null) => {
    selectThread(id);
    setThreadsOpen(false);
  };

  const newThread = async () => {
    try {
      const thread = await client.createThread();
      threads.seen(thread);
      // A new thread is empty: ready for a task at once, while it is read back.
      dispatch({ type: 'reset', threadId: thread.thread_id });
      open(thread.thread_id);
    } catch (error) {
      dispatch({
        type: 'failed',
        threadId: view.threadId,
        message: `Could not create a thread: ${error instanceof Error ? error.message : String(error)}`,
        retry: false,
        phase: view.phase,
      });
    }
  };

  const deleteThread = async (id: string) => {
    await threads.remove(id);
    if (id === threadId) open(null);
  };

  const send = async () => {
    const message = text.trim();
    const mode = sendMode(view.phase, message);
    if (!mode || starting) return;
    const priorPhase = view.phase;
    setStarting(true);
    let id = threadId;
    try {
      if (!id) {
        const thread = await client.createThread();
        id = thread.thread_id;
        dispatch({ type: 'reset', threadId: id });
        selectThread(id);
      }
      // Edits of a paused thread reach the server before the run goes on.
      if (mode === 'resume' && !(await edits.save())) return;
    } catch (error) {
      dispatch({
        type: 'failed',
        threadId: id,
        message: `Could not start: ${error instanceof Error ? error.message : String(error)}`,
        retry: false,
        phase: priorPhase,
      });
      return;
    } finally {
      setStarting(false);
    }
    threads.running(id, mode === 'start' ? message : undefined);
    setText('');
    await run.send({
      threadId: id,
      message,
      resume: mode === 'resume',
      useHitl: settings.useHitl,
      maxRevisions: settings.maxRevisions,
      priorPhase,
    });
  };

  const retry = () => {
    if (threadId) void run.retry(threadId, view.phase, settings);
  };

  const lastItem = view.items[view.items.length - 1];
  const live = lastItem?.kind === 'live' ? { node: lastItem.node, text: lastItem.text } : null;
  const pendingEdits = EDITABLE_FIELDS.filter((field) => edits.edits[field] !== undefined);
  const title = view.values.task ?? threads.threads.find((t) => t.threadId === threadId)?.title;

  // The tab title tells where the run is, for whoever is waiting in another tab.
  const tabTitle = `${view.phase === 'empty' ? '' : `${PHASE_TEXT[view.phase]}${view.running ? ` · ${view.running}` : ''} — `}Wayfarer`;
  useEffect(() => {
    document.title = tabTitle;
  }, [tabTitle]);

  return (
    <div className="app" data-phase={view.phase}>
      {/* Focuses the box without touching the URL hash, which holds the open thread. */}
      <a
        className="skip-link"
        href="#message"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('message')?.focus();
        }}
      >
        Skip to the message box
      </a>
      <header className="topbar">
        <button
          type="button"
          className="button threads-toggle"
          aria-expanded={threadsOpen}
          aria-controls="sidebar"
          onClick={() => setThreadsOpen((v) => !v)}
        >
          Threads
        </button>
        <p className="brand">
          <span aria-hidden="true">🧭</span> Wayfarer
        </p>
        <span className={`phase-pill phase-${view.phase}`} data-testid="phase">
          {PHASE_TEXT[view.phase]}
          {view.running ? ` · ${view.running}` : ''}
        </span>
        <span className="server">
          {health.state === 'up' && `model: ${health.model} · research: ${health.research}`}
          {health.state === 'down' && (
            <span className="server-down" role="alert">
              Server unreachable: {health.message}
            </span>
          )}
        </span>
        <UserBadge onSigningOut={() => selectThread(null, { replace: true })} />
      </header>
      <div className="layout">
        <aside id="sidebar" className={threadsOpen ? 'sidebar open' : 'sidebar'}>
          <ThreadList
            threads={threads.threads}
            currentId={threadId}
            hasMore={threads.hasMore}
            loading={threads.loading}
            listProblem={threads.problem}
            onSelect={open}
            onNew={() => void newThread()}
            onDelete={deleteThread}
            onLoadMore={() => void threads.loadMore()}
            onReload={() => void threads.refresh()}
          />
        </aside>
        <main className="main">
          <h1 className="thread-heading">{title || (threadId ? 'New thread' : 'Start a piece of travel writing')}</h1>
          <ChatLog items={view.items} phase={view.phase} onRetry={retry} />
          <Composer
            phase={view.phase}
            next={view.next}
            text={text}
            onText={setText}
            onSend={() => void send()}
            onStop={run.stop}
            settings={settings}
            onSettings={changeSettings}
            pendingEdits={pendingEdits}
            busy={starting || edits.saving}
          />
        </main>
        <aside className="inspector" aria-label="Graph and work">
          <GraphView
            phase={view.phase}
            running={view.running}
            next={view.next}
            done={view.done}
            revision={view.values.revision_number}
            maxRevisions={view.values.max_revisions}
          />
          <WorkPanels
            values={view.values}
            running={view.running}
            live={live}
            editable={view.phase === 'paused'}
            edits={edits.edits}
            saving={edits.saving}
            onEdit={edits.setEdit}
            onSave={() => void edits.save()}
          />
        </aside>
      </div>
      <LiveAnnouncer announcements={view.announcements} />
    </div>
  );
}
