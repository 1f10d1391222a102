import { useLayoutEffect, useRef } from 'react';

import { nodeLabel } from '../lib/graph';
import type { ChatItem, Phase } from '../lib/threadView';
import { Markdown } from './Markdown';

interface ChatLogProps {
  items: ChatItem[];
  phase: Phase;
  onRetry: () => void;
}

/** Pixels from the bottom within which the log keeps following new text. */
const FOLLOW_SLACK = 80;

function ChatEntry({ item, onRetry, canRetry }: { item: ChatItem; onRetry: () => void; canRetry: boolean }) {
  switch (item.kind) {
    case 'human':
      return (
        <li className="msg human" data-kind="human">
          <div className="msg-meta">
            {item.role === 'feedback' ? `You · feedback${item.forNode ? ` for ${item.forNode}` : ''}` : 'You'}
          </div>
          <div className="msg-body plain">{item.text}</div>
        </li>
      );
    case 'ai':
      return (
        <li className="msg ai" data-kind="ai" data-node={item.node ?? undefined}>
          <div className="msg-meta">
            {item.node ? (
              <>
                <span className="node-chip">{item.node}</span> {nodeLabel(item.node)}
              </>
            ) : (
              'Agent'
            )}
          </div>
          <Markdown className="msg-body" text={item.text} />
        </li>
      );
    case 'live':
      return (
        <li className="msg ai live" data-kind="live" data-node={item.node} data-testid={`live-${item.node}`} aria-busy="true">
          <div className="msg-meta">
            <span className="node-chip">{item.node}</span> writing…
          </div>
          <div className="msg-body plain">
            {item.text}
            <span className="cursor" aria-hidden="true" />
          </div>
        </li>
      );
    case 'system':
      return (
        <li className={`system tone-${item.tone}`} data-kind="system" data-tone={item.tone}>
          <span>{item.text}</span>
          {item.retry && (
            <button type="button" className="button small" onClick={onRetry} disabled={!canRetry}>
              Retry
            </button>
          )}
        </li>
      );
  }
}

/** The conversation: the human's messages, each node's message, and system lines. */
export function ChatLog({ items, phase, onRetry }: ChatLogProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const following = useRef(true);

  // Follow new text while the reader is at the bottom; leave them be once they scroll up.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [items]);

  const canRetry = phase === 'failed';
  return (
    <div
      ref={scroller}
      className="chat-scroll"
      tabIndex={0}
      role="region"
      aria-label="Conversation"
      onScroll={(event) => {
        const el = event.currentTarget;
        following.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_SLACK;
      }}
    >
      {items.length === 0 ? (
        <div className="chat-empty">
          {phase === 'loading' ? (
            <p>Loading the thread…</p>
          ) : (
            <>
              <p className="chat-empty-title">What shall we write?</p>
              <p>
                Give the agent a travel-writing task, such as <q>Write about visiting Paris</q>. It plans, researches,
                drafts and critiques; with “Pause after each step” on, it waits for you after every step so you can
                read, edit the plan or draft, or steer it with feedback.
              </p>
            </>
          )}
        </div>
      ) : (
        <ol className="chat" data-testid="chat">
          {items.map((item) => (
            <ChatEntry key={item.id} item={item} onRetry={onRetry} canRetry={canRetry} />
          ))}
        </ol>
      )}
    </div>
  );
}
