import { useLayoutEffect, useState } from 'react';

import { MAX_REVISIONS_CHOICES } from '../api/types';
import { readStored, writeStored } from '../lib/storage';

export interface RunSettings {
  /** Pause after every node (human in the loop). */
  useHitl: boolean;
  maxRevisions: number;
}

const KEY = 'wayfarer.runSettings.v1';
const DEFAULTS: RunSettings = { useHitl: true, maxRevisions: 2 };

function parse(raw: unknown): RunSettings {
  const value = (raw ?? {}) as Partial<RunSettings>;
  const maxRevisions = (MAX_REVISIONS_CHOICES as readonly number[]).includes(value.maxRevisions ?? 0)
    ? (value.maxRevisions as number)
    : DEFAULTS.maxRevisions;
  return { useHitl: typeof value.useHitl === 'boolean' ? value.useHitl : DEFAULTS.useHitl, maxRevisions };
}

/** The HITL toggle and max-revisions choice sent with each run; remembered between visits. */
export function useRunSettings(): [RunSettings, (change: Partial<RunSettings>) => void] {
  const [settings, setSettings] = useState(() => readStored(KEY, parse, DEFAULTS));
  useLayoutEffect(() => writeStored(KEY, settings), [settings]);
  return [settings, (change) => setSettings((current) => ({ ...current, ...change }))];
}
