// The shapes of docs/api.md, typed. Server-sent shapes are trusted as documented; the client
// checks only what it must to tell events apart.

export const NODE_NAMES = ['planner', 'travel_plan', 'generate', 'reflect', 'research_critique'] as const;
export type NodeName = (typeof NODE_NAMES)[number];

export function isNodeName(value: unknown): value is NodeName {
  return typeof value === 'string' && (NODE_NAMES as readonly string[]).includes(value);
}

export type ThreadStatus = 'idle' | 'busy' | 'interrupted' | 'error';

export interface Thread {
  thread_id: string;
  created_at: string;
  updated_at: string;
  metadata: Record<string, unknown>;
  status: ThreadStatus;
  /** The last run's failure, when status is error (the service sends it; not in docs/api.md). */
  error?: string | null;
  /** The running run while status is busy, else the thread's most recent run (null: none yet). */
  run_id?: string | null;
  /** The thread's writing task (null before its first run). */
  title?: string | null;
}

/** GET /threads: one page of the caller's threads, newest activity first. */
export interface ThreadPage {
  threads: Thread[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

export type RunStatus = 'running' | 'interrupted' | 'complete' | 'error' | 'cancelled';

/** GET /threads/{thread_id}/runs/{run_id}: one run as the server's event log knows it. */
export interface Run {
  run_id: string;
  thread_id: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  /** The seq of the newest event the run has written so far. */
  last_seq: number;
  error: string | null;
}

export interface Source {
  query: string;
  title: string;
  url: string;
  content: string;
}

export interface StateMessage {
  type: 'human' | 'ai' | string;
  content: string;
  id?: string | null;
  name?: string | null;
}

export interface StateValues {
  task?: string;
  plan?: string | null;
  draft?: string | null;
  critique?: string | null;
  queries?: string[];
  content?: Source[];
  revision_number?: number;
  max_revisions?: number;
  feedback?: string | null;
  messages?: StateMessage[];
}

export interface StateTask {
  id: string;
  name: string;
  error: string | null;
  interrupts: unknown[];
}

export interface Checkpoint {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
}

export interface ThreadState {
  values: StateValues;
  next: string[];
  tasks: StateTask[];
  interrupts: unknown[];
  checkpoint: Checkpoint | null;
  parent_checkpoint: Checkpoint | null;
  metadata: Record<string, unknown> | null;
  created_at: string | null;
}

/** The fields a human may edit while a thread is paused. */
export interface StateEdit {
  plan?: string;
  draft?: string;
  critique?: string;
}

export interface RunInput {
  thread_id?: string;
  message?: string;
  use_hitl: boolean;
  max_revisions?: number;
}

export const MAX_MESSAGE_CHARS = 8000;
export const MAX_REVISIONS_CHOICES = [1, 2, 3, 4, 5] as const;

// ---------------------------------------------------------------- run stream events

interface EventBase {
  thread_id: string;
  run_id: string;
  seq: number;
}

export interface MetadataEvent extends EventBase {
  event: 'metadata';
  model: string;
  research: string;
  resumed: boolean;
  use_hitl: boolean;
  max_revisions: number;
}

export interface NodeStartEvent extends EventBase {
  event: 'node_start';
  node: NodeName;
}

export interface TokenEvent extends EventBase {
  event: 'token';
  node: NodeName;
  delta: string;
}

export interface NodeData {
  plan?: string;
  draft?: string;
  critique?: string;
  queries?: string[];
  sources?: { title: string; url: string }[];
  revision_number?: number;
  /** `id` is the message's id in the thread state's `values.messages`. */
  message?: { type: string; content: string; id?: string | null };
}

export interface NodeEvent extends EventBase {
  event: 'node';
  node: NodeName;
  data: NodeData;
}

export interface InterruptEvent extends EventBase {
  event: 'interrupt';
  next: NodeName[];
  /** hitl: paused after a node; deadline: near the invocation's time limit; cancelled: the
   * cancel route stopped the run mid-node and `next` is that node, to be redone on Send. (The
   * service may also say "stopped" when the client left, which that client never reads.) */
  reason: 'hitl' | 'deadline' | 'stopped' | 'cancelled';
}

export interface CompleteEvent extends EventBase {
  event: 'complete';
}

export interface ErrorEvent extends EventBase {
  event: 'error';
  error: string;
  resumable: boolean;
}

/**
 * Made by the client, not the server: the stream broke before its last event, so the client
 * read the thread back. `thread` and `state` are the server's truth at that moment (null when
 * even that read failed, e.g. the server is down).
 */
export interface ResyncEvent {
  event: 'resync';
  thread_id: string | null;
  reason: string;
  thread: Thread | null;
  state: ThreadState | null;
}

export type ServerEvent =
  | MetadataEvent
  | NodeStartEvent
  | TokenEvent
  | NodeEvent
  | InterruptEvent
  | CompleteEvent
  | ErrorEvent;

export type StreamEvent = ServerEvent | ResyncEvent;

/** The events that end a run's stream: exactly one of them is the last. */
export type FinalEvent = InterruptEvent | CompleteEvent | ErrorEvent | ResyncEvent;

export function isFinalEvent(event: StreamEvent): event is FinalEvent {
  return (
    event.event === 'interrupt' ||
    event.event === 'complete' ||
    event.event === 'error' ||
    event.event === 'resync'
  );
}
