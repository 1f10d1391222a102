import { useState } from 'react';

import type { ListedThread } from '../hooks/useThreads';

interface ThreadListProps {
  threads: ListedThread[];
  currentId: string | null;
  /** More threads on the server than shown. */
  hasMore: boolean;
  loading: boolean;
  /** Reading the list failed. */
  listProblem: string | null;
  onSelect: (threadId: string) => void;
  onNew: () => void;
  onDelete: (threadId: string) => Promise<void>;
  onLoadMore: () => void;
  onReload: () => void;
}

const STATUS_TEXT: Record<ListedThread['status'], string> = {
  idle: 'ready',
  busy: 'running',
  interrupted: 'paused',
  error: 'failed',
};

/** Your threads, newest activity first: open one, start a new one, delete one (asks first). */
export function ThreadList({
  threads,
  currentId,
  hasMore,
  loading,
  listProblem,
  onSelect,
  onNew,
  onDelete,
  onLoadMore,
  onReload,
}: ThreadListProps) {
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
      {listProblem && (
        <p className="threads-problem" role="alert">
          {listProblem}{' '}
          <button type="button" className="button small" onClick={onReload}>
            Try again
          </button>
        </p>
      )}
      {threads.length === 0 ? (
        !listProblem && <p className="threads-empty">{loading ? 'Loading your threads…' : 'No threads yet. Your threads appear here.'}</p>
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
      {hasMore && (
        <button type="button" className="button load-more" onClick={onLoadMore} disabled={loading}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </nav>
  );
}
