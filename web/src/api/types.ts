// The shapes of docs/api.md, typed. The server's come from its OpenAPI (schema.d.ts, generated
// from openapi.json); what the schema leaves open (node names, the keys of the graph's state and
// of a node event's data) is narrowed here on top of them. Server-sent shapes are trusted as
// documented; the client checks only what it must to tell events apart.
import openapi from './openapi.json';
import type { components } from './schema';

// Not in the schema, whose events and state name nodes as plain strings: the graph's nodes.
export const NODE_NAMES = ['planner', 'travel_plan', 'generate', 'reflect', 'research_critique'] as const;
export type NodeName = (typeof NODE_NAMES)[number];

export function isNodeName(value: unknown): value is NodeName {
  return typeof value === 'string' && (NODE_NAMES as readonly string[]).includes(value);
}

/** The server's shapes, generated from its OpenAPI (`make api-types`). */
type Schemas = components['schemas'];

/**
 * A server shape with some fields narrowed to what the client knows and the schema does not say
 * (node names, the keys of a dict). Each narrowed type must fit the server's: tsc fails here when
 * the schema drops or changes a field that a narrowing relies on.
 */
type Narrowed<
  Server,
  Narrowing extends { [K in keyof Narrowing]: K extends keyof Server ? Server[K] : never },
> = Omit<Server, keyof Narrowing> & Narrowing;

/** `Type`, which tsc holds to fit `Server` (a client type narrower than the schema's). */
type Within<Type extends Server, Server> = Type;

export type Thread = Schemas['Thread'];
export type ThreadStatus = Thread['status'];

/** GET /threads: one page of the caller's threads, newest activity first. */
export type ThreadPage = Schemas['ThreadPage'];

/** GET /threads/{thread_id}/runs/{run_id}: one run as the server's event log knows it. */
export type Run = Schemas['Run'];
export type RunStatus = Run['status'];
/** POST .../cancel (202): the run as it was, with `cancel_requested: true`. */
export type CancelledRun = Schemas['CancelledRun'];

export type Health = Schemas['Health'];

// The graph's state: the schema says only `values: dict`; these are the keys the client reads.
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

// A type, not an interface: only a type literal fits the schema's `{ [key: string]: unknown }`.
export type StateValues = {
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
};

export type ThreadState = Narrowed<Schemas['ThreadState'], { values: StateValues }>;

/** The fields a human may edit while a thread is paused (the schema allows any key; the server
 * refuses all but these). */
export type StateEdit = Within<{ plan?: string; draft?: string; critique?: string }, Schemas['StateEdit']['values']>;

/** POST /runs/stream's body. */
export type RunInput = Schemas['RunBody'];
export type CreateThreadInput = Schemas['CreateThread'];

/** Not a schema constraint: the route checks the server's max_message_chars setting (8000). */
export const MAX_MESSAGE_CHARS = 8000;

/** The max_revisions the server accepts: RunBody's minimum..maximum in its OpenAPI. */
export const MAX_REVISIONS_CHOICES: readonly number[] = maxRevisionsChoices();

function maxRevisionsChoices(): number[] {
  for (const option of openapi.components.schemas.RunBody.properties.max_revisions.anyOf) {
    // A compile error here means the schema no longer bounds max_revisions.
    const { minimum, maximum } = option;
    if (typeof minimum === 'number' && typeof maximum === 'number') {
      return Array.from({ length: maximum - minimum + 1 }, (_, index) => minimum + index);
    }
  }
  throw new Error('openapi.json gives max_revisions no minimum and maximum.');
}

// ---------------------------------------------------------------- run stream events

export type MetadataEvent = Schemas['MetadataEvent'];
export type NodeStartEvent = Narrowed<Schemas['NodeStartEvent'], { node: NodeName }>;
export type TokenEvent = Narrowed<Schemas['TokenEvent'], { node: NodeName }>;

/** A node event's `data` (a dict in the schema): the fields that node wrote, plus its message. */
export type NodeData = {
  plan?: string;
  draft?: string;
  critique?: string;
  queries?: string[];
  sources?: { title: string; url: string }[];
  revision_number?: number;
  /** `id` is the message's id in the thread state's `values.messages`. */
  message?: { type: string; content: string; id?: string | null };
};

export type NodeEvent = Narrowed<Schemas['NodeEvent'], { node: NodeName; data: NodeData }>;

/** `reason` — hitl: paused after a node; deadline: near the invocation's time limit; cancelled:
 * the cancel route stopped the run mid-node and `next` is that node, to be redone on Send. (The
 * service may also say "stopped" when the client left, which that client never reads.) */
export type InterruptEvent = Schemas['InterruptEvent'];
export type CompleteEvent = Schemas['CompleteEvent'];
export type ErrorEvent = Schemas['ErrorEvent'];

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

/** The kinds of event the schema's RunEvent names; tsc fails here when ServerEvent lacks one. */
export type ServerEventKind = Within<Schemas['RunEvent']['event'], ServerEvent['event']>;

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
