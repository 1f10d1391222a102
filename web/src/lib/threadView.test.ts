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
    metadata: null,
    created_at: null,
  };
}

function thread(status: Thread['status']): Thread {
  return { thread_id: T, created_at: '', updated_at: '', metadata: {}, status };
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

    const failedState = state(values, ['generate'], [{ id: 'x', name: 'generate', error: 'Throttled', interrupts: [] }]);
    const failed = play(initialView(T), { type: 'loaded', threadId: T, thread: thread('error'), state: failedState });
    expect(failed.phase).toBe('failed');
    expect(failed.items.at(-1)).toMatchObject({ retry: true, text: expect.stringContaining('failed at generate: Throttled') });
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
