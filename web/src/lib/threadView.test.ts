import { describe, expect, it } from 'vitest';

import type { ServerEvent, StreamEvent, Thread, ThreadState } from '../api/types';
import { groupSources } from './research';
import {
  COMPLETE_TEXT,
  initialView,
  sendMode,
  threadViewReducer,
  type ChatItem,
  type ThreadAction,
  type ThreadView,
} from './threadView';

const T = 't1';
const base = { thread_id: T, run_id: 'r1' };
let seq = 0;
function ev<E extends ServerEvent['event']>(event: E, extra: Record<string, unknown> = {}): StreamEvent {
  seq += 1;
  return { ...base, seq, event, ...extra } as unknown as StreamEvent;
}

function play(view: ThreadView, ...actions: ThreadAction[]): ThreadView {
  return actions.reduce(threadViewReducer, view);
}

function events(...list: StreamEvent[]): ThreadAction[] {
  return list.map((event) => ({ type: 'event', threadId: T, event }));
}

function texts(view: ThreadView): string[] {
  return view.items.map((item: ChatItem) => `${item.kind}:${item.text.split('\n')[0]}`);
}

const fresh = () => threadViewReducer(initialView(), { type: 'reset', threadId: T });

const PLAN_MESSAGE = '📋 Step 1: Planning Complete\n\nWorking title: Paris';

function state(values: ThreadState['values'], next: string[] = [], tasks: ThreadState['tasks'] = []): ThreadState {
  return {
    values,
    next,
    tasks,
    interrupts: [],
    checkpoint: null,
    parent_checkpoint: null,
    metadata: {},
    created_at: null,
  };
}

function thread(status: Thread['status'], runId: string | null = null): Thread {
  return { thread_id: T, created_at: '', updated_at: '', metadata: {}, status, run_id: runId, title: null, error: null };
}

describe('a run as the user watches it', () => {
  it('shows the task at once, the node running, its text growing, its message, then the pause', () => {
    let view = play(fresh(), { type: 'send', threadId: T, text: 'Write about visiting Paris', resume: false });
    expect(view.phase).toBe('running');
    expect(texts(view)).toEqual(['human:Write about visiting Paris']);

    view = play(view, ...events(ev('metadata', { model: 'offline', research: 'offline', resumed: false }), ev('node_start', { node: 'planner' })));
    expect(view.running).toBe('planner');
    expect(texts(view).at(-1)).toBe('system:⚙️ Executing node: planner');

    view = play(view, ...events(ev('token', { node: 'planner', delta: 'Working ' }), ev('token', { node: 'planner', delta: 'title' })));
    expect(view.items.at(-1)).toMatchObject({ kind: 'live', node: 'planner', text: 'Working title' });

    view = play(
      view,
      ...events(ev('node', { node: 'planner', data: { plan: 'Working title: Paris', message: { type: 'AIMessage', content: PLAN_MESSAGE } } })),
    );
    expect(view.items.some((i) => i.kind === 'live')).toBe(false);
    expect(view.items.at(-1)).toMatchObject({ kind: 'ai', node: 'planner', text: PLAN_MESSAGE });
    expect(view.values.plan).toBe('Working title: Paris');
    expect(view.done).toEqual({ planner: 1 });
    expect(view.running).toBeNull();

    view = play(view, ...events(ev('interrupt', { next: ['travel_plan'], reason: 'hitl' })));
    expect(view.phase).toBe('paused');
    expect(view.next).toEqual(['travel_plan']);
    expect(texts(view).at(-1)).toBe('system:⏸️ Paused — next: travel_plan. Click Send to continue.');
    expect(view.announcements.map((a) => a.text)).toEqual([
      'Running Plan.',
      '📋 Step 1: Planning Complete',
      '⏸️ Paused — next: travel_plan. Click Send to continue.',
    ]);
  });

  it('resumes with feedback addressed to the next node, then completes', () => {
    let view = play(fresh(), { type: 'send', threadId: T, text: 'Write about Lyon', resume: false }, ...events(ev('interrupt', { next: ['travel_plan'], reason: 'hitl' })));
    view = play(view, { type: 'send', threadId: T, text: 'focus on food', resume: true });
    expect(view.items.at(-1)).toMatchObject({ kind: 'human', role: 'feedback', forNode: 'travel_plan', text: 'focus on food' });
    view = play(
      view,
      ...events(
        ev('node_start', { node: 'travel_plan' }),
        ev('node', {
          node: 'travel_plan',
          data: { queries: ['Lyon food'], sources: [{ title: 'Lyon: what to eat', url: 'https://example.org/lyon' }], message: { type: 'AIMessage', content: '🔍 Step 2: Research Complete' } },
        }),
        ev('complete'),
      ),
    );
    expect(view.phase).toBe('complete');
    expect(view.values.queries).toEqual(['Lyon food']);
    expect(view.values.content).toEqual([{ query: '', title: 'Lyon: what to eat', url: 'https://example.org/lyon', content: '' }]);
    expect(texts(view).slice(-3)).toEqual(['ai:🔍 Step 2: Research Complete', 'system:🔍 Research queries: Lyon food', `system:${COMPLETE_TEXT}`]);
  });

  it('says "continuing" when Send resumes without feedback', () => {
    const view = play(fresh(), ...events(ev('interrupt', { next: ['generate'], reason: 'hitl' })), { type: 'send', threadId: T, text: '', resume: true });
    expect(texts(view).at(-1)).toBe('system:▶️ Continuing with generate.');
  });

  it('marks a pause for the time limit as such', () => {
    const view = play(fresh(), ...events(ev('interrupt', { next: ['reflect'], reason: 'deadline' })));
    expect(texts(view).at(-1)).toMatch(/Paused to stay within the server’s time limit — next: reflect/);
  });

  it('counts a node that runs again in the revision loop', () => {
    const view = play(
      fresh(),
      ...events(
        ev('node', { node: 'generate', data: { revision_number: 1 } }),
        ev('node', { node: 'reflect', data: {} }),
        ev('node', { node: 'research_critique', data: {} }),
        ev('node', { node: 'generate', data: { revision_number: 2 } }),
      ),
    );
    expect(view.done).toEqual({ generate: 2, reflect: 1, research_critique: 1 });
    expect(view.values.revision_number).toBe(2);
  });

  it('turns an error into a failure at the running node with a Retry, and drops unfinished text', () => {
    const view = play(
      fresh(),
      { type: 'send', threadId: T, text: 'Write about Rome', resume: false },
      ...events(ev('node_start', { node: 'generate' }), ev('token', { node: 'generate', delta: '# Rome' }), ev('error', { error: 'Model timed out.', resumable: true })),
    );
    expect(view.phase).toBe('failed');
    expect(view.next).toEqual(['generate']);
    expect(view.items.some((i) => i.kind === 'live')).toBe(false);
    expect(view.items.at(-1)).toMatchObject({ kind: 'system', tone: 'error', retry: true, text: '❌ Model timed out. Retry to resume.' });
    // Sending again takes the Retry button away from the old failure.
    const resumed = play(view, { type: 'send', threadId: T, text: '', resume: true, retry: true });
    expect(resumed.items.filter((i) => i.kind === 'system' && i.retry)).toHaveLength(0);
    expect(texts(resumed).at(-1)).toBe('system:🔁 Retrying.');
  });

  it('keeps the thread where it was when the server refuses to start', () => {
    const view = play(
      fresh(),
      { type: 'send', threadId: T, text: 'x'.repeat(9000), resume: false },
      { type: 'failed', threadId: T, message: 'message is over 8,000 characters', retry: false, phase: 'idle' },
    );
    expect(view.phase).toBe('idle');
    expect(view.items.at(-1)).toMatchObject({ kind: 'system', tone: 'error', retry: false });
  });
});

describe('the view rebuilt from the server', () => {
  const values = {
    task: 'Write about visiting Paris',
    plan: 'My plan',
    messages: [
      { type: 'human', content: 'Write about visiting Paris', id: '1', name: null },
      { type: 'ai', content: PLAN_MESSAGE, id: '2', name: 'planner' },
      { type: 'human', content: 'focus on food', id: '3', name: null },
      { type: 'ai', content: '🔍 Step 2: Research Complete', id: '4', name: 'travel_plan' },
    ],
  };

  it('restores messages, who feedback was for, finished nodes and the pause', () => {
    const view = play(initialView(T), { type: 'loaded', threadId: T, thread: thread('interrupted'), state: state(values, ['generate']) });
    expect(view.phase).toBe('paused');
    expect(texts(view)).toEqual([
      'human:Write about visiting Paris',
      'ai:📋 Step 1: Planning Complete',
      'human:focus on food',
      'ai:🔍 Step 2: Research Complete',
      'system:⏸️ Paused — next: generate. Click Send to continue.',
    ]);
    expect(view.items[2]).toMatchObject({ role: 'feedback', forNode: 'travel_plan' });
    expect(view.done).toEqual({ planner: 1, travel_plan: 1 });
    expect(view.next).toEqual(['generate']);
  });

  it('counts only the nodes of the current piece when a thread holds several', () => {
    const two = {
      ...values,
      task: 'Write about Lyon',
      messages: [...values.messages, { type: 'human', content: 'Write about Lyon', id: '5', name: null }, { type: 'ai', content: PLAN_MESSAGE, id: '6', name: 'planner' }],
    };
    const view = play(initialView(T), { type: 'loaded', threadId: T, thread: thread('interrupted'), state: state(two, ['travel_plan']) });
    expect(view.done).toEqual({ planner: 1 });
  });

  it('shows a finished thread as complete and a failed one with Retry', () => {
    const complete = play(initialView(T), { type: 'loaded', threadId: T, thread: thread('idle'), state: state(values) });
    expect(complete.phase).toBe('complete');
    expect(texts(complete).at(-1)).toBe(`system:${COMPLETE_TEXT}`);

    const failedState = state(values, ['generate'], [{ id: 'x', name: 'generate', error: 'Throttled', interrupts: [], path: [], checkpoint: null, state: null, result: null }]);
    const failed = play(initialView(T), { type: 'loaded', threadId: T, thread: thread('error'), state: failedState });
    expect(failed.phase).toBe('failed');
    expect(failed.items.at(-1)).toMatchObject({ retry: true, text: expect.stringContaining('failed at generate: Throttled') });
  });

  it('shows a thread paused by a cancel as paused, though its cancelled task left an error', () => {
    const cancelled = state(values, ['generate'], [{ id: 'x', name: 'generate', error: 'CancelledError()', interrupts: [], path: [], checkpoint: null, state: null, result: null }]);
    const view = play(initialView(T), { type: 'loaded', threadId: T, thread: thread('interrupted'), state: cancelled });
    expect(view.phase).toBe('paused');
    expect(texts(view).at(-1)).toBe('system:⏸️ Paused — next: generate. Click Send to continue.');
  });

  it('lets a task start afresh on a thread the server no longer has', () => {
    const view = play(initialView(T), { type: 'missing', threadId: T, message: 'Thread t1 does not exist.', phase: 'idle' });
    expect(view.phase).toBe('idle');
    expect(sendMode(view.phase, 'Write about Paris')).toBe('start');
    expect(view.items.at(-1)).toMatchObject({ kind: 'system', tone: 'error', text: '❌ Thread t1 does not exist.' });
  });

  it('waits for a busy thread instead of offering Send', () => {
    const view = play(initialView(T), { type: 'loaded', threadId: T, thread: thread('busy'), state: state(values) });
    expect(view.phase).toBe('watching');
    expect(sendMode(view.phase, 'anything')).toBeNull();
  });

  it('does not let a late load overwrite the run being streamed', () => {
    const running = play(fresh(), { type: 'send', threadId: T, text: 'Write about Oslo', resume: false });
    const after = play(running, { type: 'loaded', threadId: T, thread: thread('idle'), state: state({}) });
    expect(after).toBe(running);
  });

  it('ignores anything addressed to another thread', () => {
    const view = fresh();
    expect(play(view, { type: 'event', threadId: 'other', event: ev('complete') })).toBe(view);
    expect(play(view, { type: 'loaded', threadId: 'other', thread: null, state: state(values) })).toBe(view);
  });

  it('after a broken stream, replaces the screen with the server’s thread and says so', () => {
    const running = play(fresh(), { type: 'send', threadId: T, text: 'Write about visiting Paris', resume: false }, ...events(ev('token', { node: 'planner', delta: 'half a pl' })));
    const view = play(running, ...events({ event: 'resync', thread_id: T, reason: 'The stream broke off: network error.', thread: thread('interrupted'), state: state(values, ['generate']) }));
    expect(view.phase).toBe('paused');
    expect(view.items.some((i) => i.kind === 'live')).toBe(false);
    expect(texts(view).slice(-2)).toEqual([
      'system:⏸️ Paused — next: generate. Click Send to continue.',
      'system:⚠️ The stream broke off: network error. The screen now shows the thread as the server has it.',
    ]);
  });

  it('after a broken stream on a busy thread, waits for it', () => {
    const view = play(fresh(), ...events({ event: 'resync', thread_id: T, reason: 'Lost it.', thread: thread('busy'), state: state(values) }));
    expect(view.phase).toBe('watching');
  });

  it('offers Retry when not even the thread could be read back', () => {
    const view = play(fresh(), ...events({ event: 'resync', thread_id: T, reason: 'Could not reach the server: Failed to fetch.', thread: null, state: null }));
    expect(view.phase).toBe('failed');
    expect(view.items.at(-1)).toMatchObject({ retry: true, text: '❌ Could not reach the server: Failed to fetch.' });
  });

  it('updates values after an edit without touching the conversation', () => {
    const loaded = play(initialView(T), { type: 'loaded', threadId: T, thread: thread('interrupted'), state: state(values, ['generate']) });
    const edited = play(loaded, { type: 'state', threadId: T, state: state({ ...values, plan: 'Edited plan' }, ['generate']) });
    expect(edited.values.plan).toBe('Edited plan');
    expect(edited.items).toBe(loaded.items);
  });
});

describe('a run joined midway (after a reload, or from another tab)', () => {
  const TASK = 'Write about visiting Paris';
  const RESEARCH_MESSAGE = '🔍 Step 2: Research Complete';
  const DRAFT_MESSAGE = '✍️ Step 3: Draft 1 of 3 Complete';
  // The server has run planner and travel_plan of run r1 and is writing the draft.
  const busyValues = {
    task: TASK,
    plan: 'Working title: Paris',
    messages: [
      { type: 'human', content: TASK, id: 'h1', name: null },
      { type: 'ai', content: PLAN_MESSAGE, id: 'm-plan', name: 'planner' },
      { type: 'ai', content: RESEARCH_MESSAGE, id: 'm-research', name: 'travel_plan' },
    ],
  };
  const loadedBusy = () =>
    play(initialView(T), { type: 'loaded', threadId: T, thread: thread('busy', 'r1'), state: state(busyValues, ['generate']) });
  const node = (name: string, id: string, content: string, extra: Record<string, unknown> = {}) =>
    ev('node', { node: name, data: { ...extra, message: { type: 'AIMessage', content, id } } });
  // The run from its first event, as a join with after=0 replays it.
  const replayFromStart = () => [
    ev('metadata', { model: 'offline', research: 'offline', resumed: false, use_hitl: false }),
    ev('node_start', { node: 'planner' }),
    ev('token', { node: 'planner', delta: 'Working title' }),
    node('planner', 'm-plan', PLAN_MESSAGE, { plan: 'Working title: Paris' }),
    ev('node_start', { node: 'travel_plan' }),
    node('travel_plan', 'm-research', RESEARCH_MESSAGE, { queries: ['Paris food'] }),
    ev('node_start', { node: 'generate' }),
    ev('token', { node: 'generate', delta: '# Paris' }),
    ev('token', { node: 'generate', delta: ', Unhurried' }),
  ];

  it('marks a busy thread that names its run to be followed, without the waiting notice', () => {
    const view = loadedBusy();
    expect(view.phase).toBe('watching');
    expect(view.follow).toBe('r1');
    expect(texts(view)).toEqual([`human:${TASK}`, 'ai:📋 Step 1: Planning Complete', `ai:${RESEARCH_MESSAGE}`]);
  });

  it('follows the run once joined: running, and says so', () => {
    const view = play(loadedBusy(), { type: 'join', threadId: T, runId: 'r1' });
    expect(view.phase).toBe('running');
    expect(view.follow).toBeNull();
    expect(texts(view).at(-1)).toBe('system:🔄 A run is going on the server: following it live.');
  });

  it('shows a replay without repeating the nodes already on screen: no message, start or text of theirs', () => {
    const joined = play(loadedBusy(), { type: 'join', threadId: T, runId: 'r1' });
    const view = play(joined, { type: 'events', threadId: T, events: replayFromStart() });
    expect(texts(view)).toEqual([
      `human:${TASK}`,
      'ai:📋 Step 1: Planning Complete',
      `ai:${RESEARCH_MESSAGE}`,
      'system:🔄 A run is going on the server: following it live.',
      'system:⚙️ Executing node: generate',
      'live:# Paris, Unhurried',
    ]);
    expect(view.running).toBe('generate');
    expect(view.done).toEqual({ planner: 1, travel_plan: 1 });
    expect(view.values.plan).toBe('Working title: Paris');

    // Live from here: the draft's message arrives once, its text goes.
    const drafted = play(view, ...events(node('generate', 'm-draft', DRAFT_MESSAGE, { draft: '# Paris, Unhurried' }), ev('complete')));
    expect(drafted.items.filter((i) => i.kind === 'ai').map((i) => i.text)).toEqual([PLAN_MESSAGE, RESEARCH_MESSAGE, DRAFT_MESSAGE]);
    expect(drafted.items.some((i) => i.kind === 'live')).toBe(false);
    expect(drafted.done).toEqual({ planner: 1, travel_plan: 1, generate: 1 });
    expect(drafted.phase).toBe('complete');
  });

  it('shows a node of the replay that finished after the state was read', () => {
    const stale = play(initialView(T), {
      type: 'loaded',
      threadId: T,
      thread: thread('busy', 'r1'),
      state: state({ ...busyValues, messages: busyValues.messages.slice(0, 2) }, ['travel_plan']),
    });
    const view = play(stale, { type: 'join', threadId: T, runId: 'r1' }, { type: 'events', threadId: T, events: replayFromStart() });
    expect(view.items.filter((i) => i.kind === 'ai').map((i) => i.text)).toEqual([PLAN_MESSAGE, RESEARCH_MESSAGE]);
    expect(view.values.queries).toEqual(['Paris food']);
    expect(view.done).toEqual({ planner: 1, travel_plan: 1 });
  });

  it('never appends a node message whose id is already on screen, one event at a time too', () => {
    const joined = play(loadedBusy(), { type: 'join', threadId: T, runId: 'r1' });
    const view = play(
      joined,
      ...events(ev('node_start', { node: 'travel_plan' }), ev('token', { node: 'travel_plan', delta: 'Paris' }), node('travel_plan', 'm-research', RESEARCH_MESSAGE)),
    );
    expect(view.items.filter((i) => i.kind === 'ai')).toHaveLength(2);
    expect(view.items.some((i) => i.kind === 'live')).toBe(false);
    expect(texts(view).at(-1)).toBe('system:🔄 A run is going on the server: following it live.');
    expect(view.running).toBeNull();
    expect(view.done).toEqual({ planner: 1, travel_plan: 1 });

    // A node message seen live is known by its id as well.
    const once = play(fresh(), ...events(node('planner', 'm-plan', PLAN_MESSAGE)));
    const twice = play(once, ...events(node('planner', 'm-plan', PLAN_MESSAGE)));
    expect(twice.items.filter((i) => i.kind === 'ai')).toHaveLength(1);
  });

  it('waits instead of following again when a followed run could not be followed (resync)', () => {
    const joined = play(loadedBusy(), { type: 'join', threadId: T, runId: 'r1' });
    const view = play(
      joined,
      ...events({ event: 'resync', thread_id: T, reason: 'The stream broke off.', thread: thread('busy', 'r1'), state: state(busyValues, ['generate']) }),
    );
    expect(view.phase).toBe('watching');
    expect(view.follow).toBeNull();
  });
});

describe('Stop cancels the step in progress', () => {
  it('pauses at the cancelled node, drops its unfinished text, and says Send redoes it', () => {
    const view = play(
      fresh(),
      { type: 'send', threadId: T, text: 'Write about Lisbon', resume: false },
      ...events(
        ev('node', { node: 'planner', data: { message: { type: 'AIMessage', content: PLAN_MESSAGE, id: 'm1' } } }),
        ev('node_start', { node: 'travel_plan' }),
        ev('token', { node: 'travel_plan', delta: 'Lisbon fo' }),
        ev('interrupt', { next: ['travel_plan'], reason: 'cancelled' }),
      ),
    );
    expect(view.phase).toBe('paused');
    expect(view.next).toEqual(['travel_plan']);
    expect(view.running).toBeNull();
    expect(view.done).toEqual({ planner: 1 });
    expect(view.items.some((i) => i.kind === 'live')).toBe(false);
    expect(view.items.at(-1)).toMatchObject({
      kind: 'system',
      tone: 'paused',
      text: '⏹️ Cancelled travel_plan mid-step; nothing of it was kept. Click Send to continue: travel_plan is redone from the start.',
    });
    expect(sendMode(view.phase, '')).toBe('resume');
    const resumed = play(view, { type: 'send', threadId: T, text: '', resume: true });
    expect(texts(resumed).at(-1)).toBe('system:▶️ Continuing with travel_plan.');
  });
});

describe('what Send does', () => {
  it('starts a piece with text, resumes a paused or failed thread with or without text, else nothing', () => {
    expect(sendMode('idle', '  ')).toBeNull();
    expect(sendMode('idle', 'Write about Paris')).toBe('start');
    expect(sendMode('empty', 'Write about Paris')).toBe('start');
    expect(sendMode('complete', 'Another piece')).toBe('start');
    expect(sendMode('paused', '')).toBe('resume');
    expect(sendMode('failed', 'try shorter')).toBe('resume');
    expect(sendMode('running', 'more')).toBeNull();
    expect(sendMode('loading', 'x')).toBeNull();
  });
});

describe('research sources', () => {
  it('are grouped by the query that found them, and queries that found nothing are listed', () => {
    const source = (query: string, title: string) => ({ query, title, url: `https://example.org/${title}`, content: '' });
    const groups = groupSources([source('Paris food', 'a'), source('Paris sights', 'b'), source('Paris food', 'c')], ['Paris food', 'Paris tips']);
    expect(groups.map((g) => [g.query, g.sources.map((s) => s.title)])).toEqual([
      ['Paris food', ['a', 'c']],
      ['Paris sights', ['b']],
      ['Paris tips', []],
    ]);
  });
});
