import { useCallback, useLayoutEffect, useMemo, useState } from 'react';

import { MAX_REVISIONS_CHOICES } from '../api/types';
import { readStored, writeStored } from '../lib/storage';

export interface RunSettings {
  /** Pause after every node (human in the loop). */
  useHitl: boolean;
  maxRevisions: number;
}

const KEY = 'wayfarer.runSettings.v1';
const DEFAULTS: RunSettings = { useHitl: true, maxRevisions: 2 };

function isChoice(value: unknown): value is number {
  return (MAX_REVISIONS_CHOICES as readonly unknown[]).includes(value);
}

function parse(raw: unknown): RunSettings {
  const value = (raw ?? {}) as Partial<RunSettings>;
  const maxRevisions = isChoice(value.maxRevisions) ? value.maxRevisions : DEFAULTS.maxRevisions;
  return { useHitl: typeof value.useHitl === 'boolean' ? value.useHitl : DEFAULTS.useHitl, maxRevisions };
}

/**
 * The HITL toggle and max-revisions choice sent with each run. Max revisions is the open
 * thread's own (`threadMaxRevisions`, from its state) unless changed here for that thread, since
 * a resume sends it and the server applies it; a thread without one takes the remembered choice.
 * A change is also remembered, between visits, for new threads.
 */
export function useRunSettings(
  threadId: string | null,
  threadMaxRevisions: number | undefined,
): [RunSettings, (change: Partial<RunSettings>) => void] {
  const [stored, setStored] = useState(() => readStored(KEY, parse, DEFAULTS));
  // Changed on this screen, per thread; keyed so that a choice never carries across threads.
  const [chosen, setChosen] = useState<Record<string, number>>({});
  useLayoutEffect(() => writeStored(KEY, stored), [stored]);

  const settings = useMemo(() => {
    const own = threadId ? chosen[threadId] : undefined;
    const maxRevisions = own ?? (isChoice(threadMaxRevisions) ? threadMaxRevisions : stored.maxRevisions);
    return { useHitl: stored.useHitl, maxRevisions };
  }, [chosen, stored, threadId, threadMaxRevisions]);

  const change = useCallback(
    (next: Partial<RunSettings>) => {
      setStored((current) => ({ ...current, ...next }));
      const { maxRevisions } = next;
      if (threadId && maxRevisions !== undefined) setChosen((all) => ({ ...all, [threadId]: maxRevisions }));
    },
    [threadId],
  );
  return [settings, change];
}
