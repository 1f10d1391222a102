// The agent's graph as docs/api.md draws it: five nodes, their edges, and how to name them.
import type { NodeName } from '../api/types';

export const END = '__end__';
export type GraphTarget = NodeName | typeof END;

export const EDGES: readonly (readonly [NodeName, GraphTarget])[] = [
  ['planner', 'travel_plan'],
  ['travel_plan', 'generate'],
  ['generate', 'reflect'],
  ['generate', END],
  ['reflect', 'research_critique'],
  ['research_critique', 'generate'],
];

const LABELS: Record<NodeName, string> = {
  planner: 'Plan',
  travel_plan: 'Research',
  generate: 'Draft',
  reflect: 'Critique',
  research_critique: 'More research',
};

/** What a node does, in words ("Plan"); the node's id stays visible beside it. */
export function nodeLabel(node: NodeName): string {
  return LABELS[node];
}

/** "Draft 2 of 3": generate runs once per revision, max_revisions + 1 times in all. */
export function revisionText(revision: number | undefined, maxRevisions: number | undefined): string {
  const total = (maxRevisions ?? 2) + 1;
  return revision ? `Draft ${revision} of ${total}` : `No draft yet (up to ${total})`;
}
