import { useId } from 'react';

import { NODE_NAMES, type NodeName } from '../api/types';
import { EDGES, END as END_NODE, nodeLabel, revisionText } from '../lib/graph';
import type { Phase } from '../lib/threadView';

interface GraphViewProps {
  phase: Phase;
  running: NodeName | null;
  next: NodeName[];
  done: Partial<Record<NodeName, number>>;
  revision: number | undefined;
  maxRevisions: number | undefined;
}

type NodeStatus = 'running' | 'next' | 'done' | 'idle';

const W = 96;
const H = 44;
const POSITION: Record<NodeName, { x: number; y: number }> = {
  planner: { x: 4, y: 18 },
  travel_plan: { x: 122, y: 18 },
  generate: { x: 240, y: 18 },
  reflect: { x: 240, y: 104 },
  research_critique: { x: 122, y: 104 },
};
const END = { cx: 361, cy: 40, r: 10 };

/** How each edge of the graph (lib/graph EDGES) is drawn in this layout. */
const EDGE_PATH: Record<string, string> = {
  'planner>travel_plan': 'M100 40 H120',
  'travel_plan>generate': 'M218 40 H238',
  [`generate>${END_NODE}`]: `M336 40 H${END.cx - END.r - 1}`,
  'generate>reflect': 'M300 62 V102',
  'reflect>research_critique': 'M240 126 H220',
  'research_critique>generate': 'M170 104 C170 84, 250 90, 258 64',
};

function statusOf(node: NodeName, props: GraphViewProps): NodeStatus {
  if (props.running === node) return 'running';
  if ((props.phase === 'paused' || props.phase === 'failed') && props.next.includes(node)) return 'next';
  if (props.done[node]) return 'done';
  return 'idle';
}

function caption(props: GraphViewProps): string {
  switch (props.phase) {
    case 'running':
      return props.running ? `Running ${props.running}` : 'Starting…';
    case 'paused':
      return `Paused — next: ${props.next.join(', ') || 'end'}`;
    case 'failed':
      return props.next.length ? `Failed — resumes at ${props.next.join(', ')}` : 'Failed';
    case 'complete':
      return 'Complete';
    case 'watching':
      return 'Running on the server…';
    default:
      return 'Not started';
  }
}

/** The agent's five nodes and their edges; what runs, what is done, what comes next. */
export function GraphView(props: GraphViewProps) {
  const titleId = useId();
  const arrowId = useId();
  const statuses = NODE_NAMES.map((node) => [node, statusOf(node, props)] as const);
  const description = statuses
    .map(([node, status]) => `${node}: ${status === 'done' ? `done${(props.done[node] ?? 0) > 1 ? ` ${props.done[node]} times` : ''}` : status}`)
    .join('; ');

  return (
    <section className="graph" aria-labelledby={titleId} data-testid="graph" data-phase={props.phase}>
      <div className="section-head">
        <h2 id={titleId}>Graph</h2>
        <span className="graph-caption" data-testid="graph-caption">
          {caption(props)}
        </span>
      </div>
      <svg viewBox="0 0 374 156" role="img" aria-label={`Agent graph. ${description}.`} className="graph-svg">
        <defs>
          <marker id={arrowId} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0 0 L10 5 L0 10 z" className="graph-arrow" />
          </marker>
        </defs>
        {EDGES.map(([from, to]) => (
          <path
            key={`${from}>${to}`}
            d={EDGE_PATH[`${from}>${to}`]}
            className={`graph-edge${to === END_NODE && props.phase === 'complete' ? ' taken' : ''}`}
            markerEnd={`url(#${arrowId})`}
          />
        ))}
        <g className={`graph-end${props.phase === 'complete' ? ' reached' : ''}`} data-node="end">
          <circle cx={END.cx} cy={END.cy} r={END.r} />
          <text x={END.cx} y={END.cy + 3.5} textAnchor="middle">
            end
          </text>
        </g>
        {statuses.map(([node, status]) => {
          const { x, y } = POSITION[node];
          const count = props.done[node] ?? 0;
          return (
            <g key={node} className={`graph-node ${status}`} data-node={node} data-status={status}>
              <rect x={x} y={y} width={W} height={H} rx={10} />
              <text x={x + W / 2} y={y + 19} textAnchor="middle" className="graph-label">
                {nodeLabel(node)}
              </text>
              <text x={x + W / 2} y={y + 34} textAnchor="middle" className="graph-id">
                {node}
              </text>
              {status === 'next' && (
                <text x={x + W / 2} y={y - 5} textAnchor="middle" className="graph-next">
                  next ▾
                </text>
              )}
              {count > 0 && (
                <g className="graph-badge" aria-hidden="true">
                  <circle cx={x + W - 2} cy={y + 2} r={count > 1 ? 10 : 8} />
                  <text x={x + W - 2} y={y + 5.5} textAnchor="middle" className="graph-count">
                    {count > 1 ? `✓${count}` : '✓'}
                  </text>
                </g>
              )}
            </g>
          );
        })}
      </svg>
      <p className="graph-revision" data-testid="revision">
        {revisionText(props.revision, props.maxRevisions)}
      </p>
    </section>
  );
}
