// The seed flow through LangGraph's own JS client (@langchain/langgraph-sdk's Client), unchanged:
// stream the task until the travel writer pauses after the planner, read the thread's state and
// history, resume with feedback and see travel_plan run. Shared by the specs with and without sign-in.
import type { Client } from '@langchain/langgraph-sdk';
import { expect } from '@playwright/test';

export const ASSISTANT = 'travel_writer';
export const TASK = 'Write about visiting Paris';
export const FEEDBACK = 'more about food';
const STREAM_MODE: ('updates' | 'values' | 'messages-tuple')[] = ['updates', 'values', 'messages-tuple'];

interface Event {
  event: string;
  data: unknown;
}
interface Interrupt {
  value: { reason: string; next: string[]; resume: string };
  id: string;
}
type Values = Record<string, unknown> & { __interrupt__?: Interrupt[] };
type MessageTuple = [{ type: string; id: string; content: string }, { langgraph_node: string; run_id: string }];

async function collect(stream: AsyncIterable<Event>): Promise<Event[]> {
  const events: Event[] = [];
  for await (const { event, data } of stream) events.push({ event, data });
  return events;
}

function ofMode<T>(events: Event[], mode: string): T[] {
  return events.filter((e) => e.event === mode).map((e) => e.data as T);
}

/** One run that ends paused after `node`: checks its events and returns the node's update. */
function checkPausedRun(events: Event[], node: string, next: string[]): Record<string, unknown> {
  const [first] = events;
  expect(first?.event, 'the first event').toBe('metadata');
  const runId = (first?.data as { run_id?: unknown }).run_id;
  expect(runId, 'metadata.run_id').toEqual(expect.any(String));

  // messages-tuple arrives as `messages`: [message, metadata]. The model's tokens as chunks of
  // one message, then the node's own message (from its update), all from the node.
  const tuples = ofMode<MessageTuple>(events, 'messages');
  for (const [, metadata] of tuples) expect(metadata).toMatchObject({ langgraph_node: node, run_id: runId });
  const chunks = tuples.filter(([m]) => m.type === 'AIMessageChunk').map(([m]) => m);
  expect(chunks.length, `token chunks from ${node}`).toBeGreaterThan(1);
  expect(new Set(chunks.map((c) => c.id)).size, 'one streamed message').toBe(1);
  expect(tuples.map(([m]) => m.type)).toEqual([...chunks.map(() => 'AIMessageChunk'), 'ai']);

  // updates: the node's own update, then the pause.
  const updates = ofMode<Record<string, unknown>>(events, 'updates');
  expect(updates.map((u) => Object.keys(u))).toEqual([[node], ['__interrupt__']]);
  const interrupts = updates[1]!.__interrupt__ as Interrupt[];
  expect(interrupts.length).toBeGreaterThan(0);
  expect(interrupts[0]).toMatchObject({ value: { reason: 'hitl', next }, id: expect.any(String) });

  // The run ends on the values it paused with, which carry the same interrupt.
  expect(events.at(-1)?.event, 'the last event').toBe('values');
  const last = events.at(-1)!.data as Values;
  expect(last.__interrupt__).toEqual(interrupts);
  return updates[0]![node] as Record<string, unknown>;
}

/** The whole flow with `client` (signed in or not, as the stack wants). */
export async function checkSeedFlow(client: Client): Promise<void> {
  expect(await client.assistants.get(ASSISTANT)).toMatchObject({ assistant_id: ASSISTANT, graph_id: ASSISTANT });
  const { thread_id: threadId } = await client.threads.create();

  // The task: the planner streams its plan token by token, and the run pauses before travel_plan.
  const planned = await collect(client.runs.stream(threadId, ASSISTANT, { input: { task: TASK }, streamMode: STREAM_MODE }));
  const planner = checkPausedRun(planned, 'planner', ['travel_plan']);
  const plan = planner.plan as string;
  expect(plan).toContain('Paris');
  const streamed = ofMode<MessageTuple>(planned, 'messages')
    .filter(([m]) => m.type === 'AIMessageChunk')
    .map(([m]) => m.content)
    .join('');
  expect(streamed.trim()).toBe(plan.trim());

  // The paused thread, as getState and getHistory read it.
  const paused = await client.threads.getState<Values>(threadId);
  expect(paused.next).toEqual(['travel_plan']);
  expect(paused.values).toMatchObject({ task: TASK, plan });
  expect(paused.tasks.map((t) => t.name)).toEqual(['travel_plan']);
  const history = await client.threads.getHistory<Values>(threadId);
  expect(history.map((s) => s.next)).toEqual([['travel_plan'], ['planner'], ['__start__']]);
  expect(history[0]!.checkpoint.checkpoint_id).toBe(paused.checkpoint.checkpoint_id);

  // Resume with feedback: it is the state travel_plan starts from, and travel_plan runs.
  const resumed = await collect(
    client.runs.stream(threadId, ASSISTANT, { command: { resume: FEEDBACK }, streamMode: STREAM_MODE }),
  );
  expect(ofMode<Values>(resumed, 'values')[0]).toMatchObject({ plan, feedback: FEEDBACK });
  const travelPlan = checkPausedRun(resumed, 'travel_plan', ['generate']);
  expect((travelPlan.queries as string[]).length).toBeGreaterThan(0);
  const after = await client.threads.getState<Values>(threadId);
  expect(after.next).toEqual(['generate']);
  expect(after.values.queries).toEqual(travelPlan.queries);
  expect((await client.threads.getHistory(threadId)).length).toBeGreaterThan(history.length);
}
