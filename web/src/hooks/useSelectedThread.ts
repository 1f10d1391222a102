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

export function useSelectedThread(): [string | null, (threadId: string | null) => void] {
  const threadId = useSyncExternalStore(subscribe, readThreadId, () => null);
  const select = useCallback((next: string | null) => {
    const hash = next ? `${PREFIX}${encodeURIComponent(next)}` : '';
    if (window.location.hash === hash) return;
    // pushState does not fire hashchange; dispatch it so every subscriber reads the new id.
    window.history.pushState(null, '', hash || `${window.location.pathname}${window.location.search}`);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  }, []);
  return [threadId, select];
}
