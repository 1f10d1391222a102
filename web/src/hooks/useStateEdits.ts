import { useCallback, useMemo, useState, type Dispatch } from 'react';

import type { ApiClient } from '../api/client';
import type { StateEdit, StateValues } from '../api/types';
import type { ThreadAction } from '../lib/threadView';

export type EditableField = keyof StateEdit;
export const EDITABLE_FIELDS: readonly EditableField[] = ['plan', 'draft', 'critique'];

export interface StateEdits {
  /** Unsaved text per field of the open thread. */
  edits: StateEdit;
  /** Start or change an edit; undefined discards it. */
  setEdit: (field: EditableField, text: string | undefined) => void;
  /** True while a save is on its way. */
  saving: boolean;
  /** Save the changed fields through the state API; false (and a message in the chat) on failure. */
  save: () => Promise<boolean>;
}

/** Edits to a paused thread's plan/draft/critique, saved before the run resumes. */
export function useStateEdits(
  client: ApiClient,
  threadId: string | null,
  values: StateValues,
  dispatch: Dispatch<ThreadAction>,
): StateEdits {
  // Keyed by thread, so switching threads never carries an edit across.
  const [byThread, setByThread] = useState<Record<string, StateEdit>>({});
  const [saving, setSaving] = useState(false);
  const edits = useMemo(() => (threadId && byThread[threadId]) || {}, [byThread, threadId]);

  const setEdit = useCallback(
    (field: EditableField, text: string | undefined) => {
      if (!threadId) return;
      setByThread((all) => {
        const next: StateEdit = { ...all[threadId] };
        if (text === undefined) delete next[field];
        else next[field] = text;
        return { ...all, [threadId]: next };
      });
    },
    [threadId],
  );

  const save = useCallback(async () => {
    if (!threadId) return true;
    const changed: StateEdit = {};
    for (const field of EDITABLE_FIELDS) {
      const text = edits[field];
      if (text !== undefined && text !== (values[field] ?? '')) changed[field] = text;
    }
    const clear = () => setByThread((all) => ({ ...all, [threadId]: {} }));
    if (Object.keys(changed).length === 0) {
      clear();
      return true;
    }
    setSaving(true);
    try {
      const state = await client.updateState(threadId, changed);
      dispatch({ type: 'state', threadId, state });
      dispatch({
        type: 'notice',
        threadId,
        tone: 'info',
        text: `✏️ Saved your edit of the ${Object.keys(changed).join(' and ')}.`,
      });
      clear();
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      dispatch({ type: 'notice', threadId, tone: 'error', text: `❌ Could not save your edit: ${message}` });
      return false;
    } finally {
      setSaving(false);
    }
  }, [client, dispatch, edits, threadId, values]);

  return { edits, setEdit, saving, save };
}
