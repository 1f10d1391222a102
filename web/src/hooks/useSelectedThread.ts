import { useCallback, useSyncExternalStore } from 'react';

// The open thread lives in the URL (#/t/<id>): reload, back/forward and links all keep it.
const PREFIX = '#/t/';
const THREAD_ID = /^[A-Za-z0-9_-]{1,64}$/;

function readThreadId(): string | null {
  const hash = window.location.hash;
  if (!hash.startsWith(PREFIX)) return null;
  const id = decodeURIComponent(hash.slice(PREFIX.length));
  return THREAD_ID.test(id) ? id : null;
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** Open a thread (null: none). `replace`: without a history entry to go back to (sign-out). */
export type SelectThread = (threadId: string | null, options?: { replace?: boolean }) => void;

export function useSelectedThread(): [string | null, SelectThread] {
  const threadId = useSyncExternalStore(subscribe, readThreadId, () => null);
  const select = useCallback<SelectThread>((next, { replace = false } = {}) => {
    const hash = next ? `${PREFIX}${encodeURIComponent(next)}` : '';
    if (window.location.hash === hash) return;
    const url = hash || `${window.location.pathname}${window.location.search}`;
    // pushState does not fire hashchange; dispatch it so every subscriber reads the new id.
    if (replace) window.history.replaceState(null, '', url);
    else window.history.pushState(null, '', url);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  }, []);
  return [threadId, select];
}
