import { useState } from 'react';

import type { RecentThread } from '../hooks/useThreads';

interface ThreadListProps {
  threads: RecentThread[];
  currentId: string | null;
  onSelect: (threadId: string) => void;
  onNew: () => void;
  onDelete: (threadId: string) => Promise<void>;
}

const STATUS_TEXT: Record<RecentThread['status'], string> = {
  idle: 'ready',
  busy: 'running',
  interrupted: 'paused',
  error: 'failed',
  unknown: '',
};

/** Recent threads of this browser: open one, start a new one, delete one (asks first). */
export function ThreadList({ threads, currentId, onSelect, onNew, onDelete }: ThreadListProps) {
  const [confirming, setConfirming] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const remove = async (threadId: string) => {
    setProblem(null);
    try {
      await onDelete(threadId);
      setConfirming(null);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <nav className="threads" aria-label="Threads">
      <button type="button" className="button primary new-thread" onClick={onNew}>
        + New thread
      </button>
      {problem && (
        <p className="threads-problem" role="alert">
          {problem}
        </p>
      )}
      {threads.length === 0 ? (
        <p className="threads-empty">No threads yet. Your threads appear here.</p>
      ) : (
        <ul className="thread-list">
          {threads.map((thread) => {
            const current = thread.threadId === currentId;
            const title = thread.title || `Thread ${thread.threadId.slice(0, 8)}`;
            return (
              <li key={thread.threadId} className={current ? 'thread current' : 'thread'}>
                {confirming === thread.threadId ? (
                  <div className="thread-confirm" role="group" aria-label={`Delete ${title}?`}>
                    <span>Delete “{title}”?</span>
                    <button type="button" className="button danger small" onClick={() => void remove(thread.threadId)}>
                      Delete
                    </button>
                    <button type="button" className="button small" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </div>
                ) : (
                  <>
                    <button
                      type="button"
                      className="thread-open"
                      aria-current={current ? 'page' : undefined}
                      onClick={() => onSelect(thread.threadId)}
                      title={thread.threadId}
                    >
                      <span className="thread-title">{title}</span>
                      {STATUS_TEXT[thread.status] && (
                        <span className={`thread-status status-${thread.status}`}>{STATUS_TEXT[thread.status]}</span>
                      )}
                    </button>
                    <button
                      type="button"
                      className="thread-delete"
                      aria-label={`Delete thread ${title}`}
                      title="Delete thread"
                      onClick={() => {
                        setProblem(null);
                        setConfirming(thread.threadId);
                      }}
                    >
                      ×
                    </button>
                  </>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </nav>
  );
}
