// What the screen shows for one thread, as a pure reducer: the server's ThreadState (on load,
// after a run, after a resync) plus the events of the run being watched. Every action names its
// thread, and actions for another thread are ignored, so a late answer for a thread the user
// has left cannot paint over the one on screen. A node's message shows once however often its
// event arrives: messages carry the id they have in the thread state, and a known id is skipped.
import type {
  NodeName,
  StateValues,
  StreamEvent,
  Thread,
  ThreadState,
} from '../api/types';
import { isNodeName } from '../api/types';
import { nodeLabel } from './graph';

export type SystemTone = 'info' | 'running' | 'paused' | 'complete' | 'error' | 'warning';

export type ChatItem =
  | { kind: 'human'; id: string; text: string; role: 'task' | 'feedback'; forNode: NodeName | null }
  /** `messageId`: the message's id in the thread state (null when the server did not say). */
  | { kind: 'ai'; id: string; node: NodeName | null; text: string; messageId: string | null }
  /** A node's text while it is still being written (token deltas). */
  | { kind: 'live'; id: string; node: NodeName; text: string }
  | { kind: 'system'; id: string; tone: SystemTone; text: string; retry: boolean };

/**
 * - empty: no thread chosen yet
 * - loading: reading the thread
 * - idle: a thread with no run yet
 * - running: a run's stream is being read
 * - paused: interrupted; Send resumes
 * - complete: the graph finished; Send starts a new piece
 * - failed: the last run failed (or could not start); Send/Retry resumes
 * - watching: the server is busy with a run this screen is not reading (yet: see `follow`)
 */
export type Phase = 'empty' | 'loading' | 'idle' | 'running' | 'paused' | 'complete' | 'failed' | 'watching';

export interface Announcement {
  id: number;
  text: string;
}

export interface RunInfo {
  runId: string;
  model: string;
  research: string;
  useHitl: boolean;
}

export interface ThreadView {
  threadId: string | null;
  phase: Phase;
  items: ChatItem[];
  /** The server's values, with the latest node's output laid over them as it arrives. */
  values: StateValues;
  running: NodeName | null;
  next: NodeName[];
  /** How many times each node finished in the current piece of writing. */
  done: Partial<Record<NodeName, number>>;
  run: RunInfo | null;
  /** A run the server is busy with that this screen should join and follow (set on load). */
  follow: string | null;
  /** The newest few things said to screen-reader users, oldest first. */
  announcements: Announcement[];
  /** Counter for item ids and announcement ids; only ever grows. */
  serial: number;
}

export type ThreadAction =
  /** Start afresh on this thread (null: no thread), e.g. one just created. */
  | { type: 'reset'; threadId: string | null }
  /** The user opened this thread; keeps the view if it already shows it. */
  | { type: 'select'; threadId: string }
  | { type: 'loaded'; threadId: string; thread: Thread | null; state: ThreadState }
  /** The thread could not be loaded; `phase` says what Send may do now. */
  | { type: 'missing'; threadId: string; message: string; phase: Phase }
  | { type: 'state'; threadId: string; state: ThreadState }
  /** The human sent: a task (new piece) or feedback/continue (resume); `retry` re-sends unseen. */
  | { type: 'send'; threadId: string; text: string; resume: boolean; retry?: boolean }
  | { type: 'event'; threadId: string; event: StreamEvent }
  /** Events that arrived together, the replay of a joined run: nodes already shown are skipped
   * whole (start, text and message), so a replay neither repeats nor flickers. */
  | { type: 'events'; threadId: string; events: StreamEvent[] }
  /** This screen starts following a run that is going on the server. */
  | { type: 'join'; threadId: string; runId: string }
  /** A run could not start or broke off; `phase` is where the thread is left (default: failed). */
  | { type: 'failed'; threadId: string | null; message: string; retry: boolean; phase?: Phase }
  | { type: 'watching'; threadId: string; message: string }
  | { type: 'notice'; threadId: string; tone: SystemTone; text: string };

const MAX_ANNOUNCEMENTS = 5;

export function initialView(threadId: string | null = null): ThreadView {
  return {
    threadId,
    phase: threadId ? 'loading' : 'empty',
    items: [],
    values: {},
    running: null,
    next: [],
    done: {},
    run: null,
    follow: null,
    announcements: [],
    serial: 0,
  };
}

// ---------------------------------------------------------------- texts the user reads

export function pausedText(next: readonly string[], reason: string = 'hitl'): string {
  if (reason === 'cancelled') return cancelledText(next);
  const where = next.length ? ` — next: ${next.join(', ')}` : '';
  const why = reason === 'deadline' ? ' to stay within the server’s time limit' : '';
  return `⏸️ Paused${why}${where}. Click Send to continue.`;
}

/** After Stop: the node that was running is thrown away and is the one Send runs again. */
export function cancelledText(next: readonly string[]): string {
  const node = next.length ? next.join(', ') : 'the step';
  return `⏹️ Cancelled ${node} mid-step; nothing of it was kept. Click Send to continue: ${node} is redone from the start.`;
}

export const FOLLOWING_TEXT = '🔄 A run is going on the server: following it live.';

export const COMPLETE_TEXT = '✅ Complete!';

export function executingText(node: NodeName): string {
  return `⚙️ Executing node: ${node}`;
}

/** The first line of a node's message, e.g. "📋 Step 1: Planning Complete". */
export function headline(text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? '';
}

/** What Send does in this phase with this text: start a piece, resume, or nothing. */
export function sendMode(phase: Phase, text: string): 'start' | 'resume' | null {
  if (phase === 'paused' || phase === 'failed') return 'resume';
  if ((phase === 'idle' || phase === 'complete' || phase === 'empty') && text.trim()) return 'start';
  return null;
}

// ---------------------------------------------------------------- helpers

function nodesOf(names: readonly string[]): NodeName[] {
  return names.filter(isNodeName);
}

function withItem(view: ThreadView, make: (id: string) => ChatItem): ThreadView {
  const serial = view.serial + 1;
  return { ...view, serial, items: [...view.items, make(`i${serial}`)] };
}

function system(view: ThreadView, tone: SystemTone, text: string, retry = false): ThreadView {
  return withItem(view, (id) => ({ kind: 'system', id, tone, text, retry }));
}

function announce(view: ThreadView, text: string): ThreadView {
  if (!text) return view;
  const serial = view.serial + 1;
  const announcements = [...view.announcements, { id: serial, text }].slice(-MAX_ANNOUNCEMENTS);
  return { ...view, serial, announcements };
}

function withoutLive(items: ChatItem[]): ChatItem[] {
  return items.filter((item) => item.kind !== 'live');
}

/** Retry buttons belong to the newest failure only. */
function withoutRetry(items: ChatItem[]): ChatItem[] {
  return items.map((item) => (item.kind === 'system' && item.retry ? { ...item, retry: false } : item));
}

/** The thread-state ids of the messages on screen. */
function shownMessageIds(items: readonly ChatItem[]): Set<string> {
  const ids = new Set<string>();
  for (const item of items) if (item.kind === 'ai' && item.messageId) ids.add(item.messageId);
  return ids;
}

function isShownNode(event: StreamEvent, shown: ReadonlySet<string>): boolean {
  const id = event.event === 'node' ? event.data.message?.id : null;
  return !!id && shown.has(id);
}

/**
 * A batch of events without the nodes whose message is already on screen, each dropped with
 * its node_start and tokens. The node still in progress at the batch's end keeps its text.
 */
export function withoutShownNodes(events: readonly StreamEvent[], items: readonly ChatItem[]): StreamEvent[] {
  const shown = shownMessageIds(items);
  const kept: StreamEvent[] = [];
  let node: StreamEvent[] = []; // node_start and tokens of the node being written
  for (const event of events) {
    if (event.event === 'node_start' || event.event === 'token') {
      node.push(event);
      continue;
    }
    if (!isShownNode(event, shown)) kept.push(...node, event);
    node = [];
  }
  return [...kept, ...node];
}

function taskError(state: ThreadState): string | null {
  return state.tasks.find((task) => task.error)?.error ?? null;
}

/** Nodes that wrote a message since the task of the current piece. */
export function doneSinceTask(values: StateValues): Partial<Record<NodeName, number>> {
  const messages = values.messages ?? [];
  let start = 0;
  messages.forEach((message, index) => {
    if (message.type === 'human' && (values.task === undefined || message.content === values.task)) start = index + 1;
  });
  const done: Partial<Record<NodeName, number>> = {};
  for (const message of messages.slice(start)) {
    if (message.type === 'ai' && isNodeName(message.name)) done[message.name] = (done[message.name] ?? 0) + 1;
  }
  return done;
}

/**
 * The whole view rebuilt from the server's word: messages, values, and where the run stands.
 * A busy thread that names its run is to be followed (`follow`) when `canFollow`; else (or
 * without a run id) the screen waits for it.
 */
export function viewFromState(
  previous: ThreadView,
  threadId: string,
  thread: Thread | null,
  state: ThreadState,
  canFollow = true,
): ThreadView {
  const values = state.values ?? {};
  const messages = values.messages ?? [];
  let view: ThreadView = {
    ...previous,
    threadId,
    items: [],
    values,
    running: null,
    next: nodesOf(state.next),
    done: doneSinceTask(values),
    run: null,
    follow: null,
  };
  messages.forEach((message, index) => {
    if (message.type === 'human') {
      const role = message.content === values.task ? 'task' : 'feedback';
      // Feedback steers the node that ran next.
      const answeredBy = messages.slice(index + 1).find((m) => m.type !== 'human');
      const forNode = role === 'feedback' && isNodeName(answeredBy?.name) ? answeredBy.name : null;
      view = withItem(view, (id) => ({ kind: 'human', id, text: message.content, role, forNode }));
    } else {
      const node = isNodeName(message.name) ? message.name : null;
      view = withItem(view, (id) => ({ kind: 'ai', id, node, text: message.content, messageId: message.id ?? null }));
    }
  });
  const failure = taskError(state) ?? thread?.error ?? null;
  // The thread's status is the server's verdict: a cancelled node leaves a task error behind,
  // yet the thread is only paused. The state alone decides when the thread could not be read.
  const failed = thread ? thread.status === 'error' : failure !== null;
  if (thread?.status === 'busy' && thread.run_id && canFollow) {
    view = { ...view, phase: 'watching', follow: thread.run_id };
  } else if (thread?.status === 'busy') {
    view = system({ ...view, phase: 'watching' }, 'running', '⏳ A run is going on the server; this screen will catch up when it pauses or ends.');
  } else if (failed) {
    const where = view.next.length ? ` at ${view.next.join(', ')}` : '';
    view = system({ ...view, phase: 'failed' }, 'error', `❌ The last run failed${where}: ${failure ?? 'see the server log'}. Retry to resume.`, true);
  } else if (view.next.length) {
    view = system({ ...view, phase: 'paused' }, 'paused', pausedText(view.next));
  } else if (messages.length) {
    view = system({ ...view, phase: 'complete' }, 'complete', COMPLETE_TEXT);
  } else {
    view = { ...view, phase: 'idle' };
  }
  return view;
}

function mergeSources(values: StateValues, sources: { title: string; url: string }[]): StateValues['content'] {
  const known = values.content ?? [];
  const seen = new Set(known.map((s) => `${s.url}\n${s.title}`));
  const added = sources
    .filter((s) => !seen.has(`${s.url}\n${s.title}`))
    .map((s) => ({ query: '', title: s.title, url: s.url, content: '' }));
  return [...known, ...added];
}

// ---------------------------------------------------------------- events

function applyEvent(view: ThreadView, event: StreamEvent): ThreadView {
  switch (event.event) {
    case 'metadata':
      return {
        ...view,
        run: {
          runId: event.run_id,
          model: event.model,
          research: event.research,
          useHitl: event.use_hitl,
        },
      };
    case 'node_start': {
      const started = system({ ...view, running: event.node, next: [] }, 'running', executingText(event.node));
      return announce(started, `Running ${nodeLabel(event.node)}.`);
    }
    case 'token': {
      const items = [...view.items];
      const last = items[items.length - 1];
      if (last && last.kind === 'live' && last.node === event.node) {
        items[items.length - 1] = { ...last, text: last.text + event.delta };
        return { ...view, items, running: event.node };
      }
      return withItem({ ...view, running: event.node }, (id) => ({ kind: 'live', id, node: event.node, text: event.delta }));
    }
    case 'node': {
      const { data } = event;
      // Already on screen (from the thread state, or a replay): what its replay started goes.
      if (isShownNode(event, shownMessageIds(view.items))) {
        const items = withoutLive(view.items);
        const last = items[items.length - 1];
        if (last?.kind === 'system' && last.text === executingText(event.node)) items.pop();
        return { ...view, items, running: null };
      }
      const values: StateValues = { ...view.values };
      if (data.plan !== undefined) values.plan = data.plan;
      if (data.draft !== undefined) values.draft = data.draft;
      if (data.critique !== undefined) values.critique = data.critique;
      if (data.queries !== undefined) values.queries = data.queries;
      if (data.revision_number !== undefined) values.revision_number = data.revision_number;
      if (data.sources?.length) values.content = mergeSources(values, data.sources);
      let next: ThreadView = {
        ...view,
        values,
        items: withoutLive(view.items),
        running: null,
        done: { ...view.done, [event.node]: (view.done[event.node] ?? 0) + 1 },
      };
      const content = data.message?.content;
      if (content) {
        const messageId = data.message?.id ?? null;
        next = withItem(next, (id) => ({ kind: 'ai', id, node: event.node, text: content, messageId }));
        next = announce(next, headline(content));
      }
      if (data.queries?.length) next = system(next, 'info', `🔍 Research queries: ${data.queries.join(', ')}`);
      return next;
    }
    case 'interrupt': {
      const text = pausedText(event.next, event.reason);
      const paused = system(
        { ...view, phase: 'paused', running: null, next: nodesOf(event.next), items: withoutLive(view.items) },
        'paused',
        text,
      );
      return announce(paused, text);
    }
    case 'complete': {
      const complete = system(
        { ...view, phase: 'complete', running: null, next: [], items: withoutLive(view.items) },
        'complete',
        COMPLETE_TEXT,
      );
      return announce(complete, 'Complete.');
    }
    case 'error': {
      const text = `❌ ${event.error}${event.resumable ? ' Retry to resume.' : ''}`;
      const failedAt = view.running ? [view.running] : view.next;
      const failed = system(
        { ...view, phase: 'failed', running: null, next: failedAt, items: withoutLive(withoutRetry(view.items)) },
        'error',
        text,
        event.resumable,
      );
      return announce(failed, text);
    }
    case 'resync': {
      if (!event.state || !event.thread_id || event.thread_id !== view.threadId) {
        const text = `❌ ${event.reason}`;
        return announce(
          system({ ...view, phase: 'failed', running: null, items: withoutLive(withoutRetry(view.items)) }, 'error', text, true),
          text,
        );
      }
      // Not followed again: following is what just failed; the screen waits for the thread.
      const rebuilt = viewFromState(view, event.thread_id, event.thread, event.state, false);
      const text = `⚠️ ${event.reason} The screen now shows the thread as the server has it.`;
      return announce(system(rebuilt, 'warning', text), text);
    }
  }
}

// ---------------------------------------------------------------- reducer

export function threadViewReducer(view: ThreadView, action: ThreadAction): ThreadView {
  if (action.type === 'reset') {
    return { ...initialView(action.threadId), phase: action.threadId ? 'idle' : 'empty', serial: view.serial };
  }
  if (action.type === 'select') {
    if (action.threadId === view.threadId && view.phase !== 'empty') return view;
    return { ...initialView(action.threadId), serial: view.serial };
  }
  if (action.threadId !== view.threadId) return view;
  switch (action.type) {
    case 'loaded':
      // A run started on this screen owns the view until it ends.
      if (view.phase === 'running') return view;
      return viewFromState(view, action.threadId, action.thread, action.state);
    case 'missing':
      return system({ ...initialView(action.threadId), phase: action.phase, serial: view.serial }, 'error', `❌ ${action.message}`);
    case 'state': {
      // Values and the next node from the server; the conversation on screen stays as it is.
      const values = action.state.values ?? {};
      const next = view.phase === 'running' ? view.next : nodesOf(action.state.next);
      return { ...view, values, next, done: view.phase === 'running' ? view.done : doneSinceTask(values) };
    }
    case 'send': {
      let next: ThreadView = {
        ...view,
        phase: 'running',
        items: withoutRetry(view.items),
        running: null,
        run: null,
        follow: null,
      };
      if (!action.resume) next = { ...next, done: {}, next: [] };
      const forNode = action.resume ? (view.next[0] ?? null) : null;
      if (action.retry) {
        next = system(next, 'info', '🔁 Retrying.');
      } else if (action.text) {
        next = withItem(next, (id) => ({
          kind: 'human',
          id,
          text: action.text,
          role: action.resume ? 'feedback' : 'task',
          forNode,
        }));
      } else if (action.resume) {
        next = system(next, 'info', `▶️ Continuing${forNode ? ` with ${forNode}` : ''}.`);
      }
      return next;
    }
    case 'event':
      return applyEvent(view, action.event);
    case 'events':
      return withoutShownNodes(action.events, view.items).reduce(applyEvent, view);
    case 'join': {
      const joined = system(
        { ...view, phase: 'running', follow: null, running: null, items: withoutRetry(view.items) },
        'running',
        FOLLOWING_TEXT,
      );
      return announce(joined, FOLLOWING_TEXT);
    }
    case 'failed': {
      const text = `❌ ${action.message}`;
      const failed = system(
        { ...view, phase: action.phase ?? 'failed', running: null, items: withoutLive(withoutRetry(view.items)) },
        'error',
        text,
        action.retry,
      );
      return announce(failed, text);
    }
    case 'watching':
      return announce(
        system(
          { ...view, phase: 'watching', follow: null, running: null, items: withoutLive(view.items) },
          'warning',
          action.message,
        ),
        action.message,
      );
    case 'notice':
      return system(view, action.tone, action.text);
  }
}
