import type { FormEvent, KeyboardEvent } from 'react';

import { MAX_MESSAGE_CHARS, MAX_REVISIONS_CHOICES, type NodeName } from '../api/types';
import type { RunSettings } from '../hooks/useRunSettings';
import { sendMode, type Phase } from '../lib/threadView';

interface ComposerProps {
  phase: Phase;
  next: NodeName[];
  text: string;
  onText: (text: string) => void;
  onSend: () => void;
  onStop: () => void;
  settings: RunSettings;
  onSettings: (change: Partial<RunSettings>) => void;
  /** Unsaved plan/draft/critique edits that Send saves first. */
  pendingEdits: string[];
  busy: boolean;
}

function hint(phase: Phase, next: NodeName[], pendingEdits: string[]): string {
  const nextNode = next[0];
  switch (phase) {
    case 'paused': {
      const edits = pendingEdits.length ? ` Your edit of the ${pendingEdits.join(' and ')} is saved first.` : '';
      return `Paused${nextNode ? ` before ${nextNode}` : ''}. Send continues; anything you type is feedback for ${nextNode ?? 'the next step'}.${edits}`;
    }
    case 'failed':
      return 'The last run stopped with an error. Send (or Retry) resumes it; anything you type is feedback.';
    case 'running':
      return 'The agent is working. Stop cancels the step in progress; Send then redoes it.';
    case 'watching':
      return 'Waiting for the server to finish the current run…';
    case 'loading':
      return 'Loading the thread…';
    case 'complete':
      return 'Done. A new message starts a new piece on this thread. Enter sends; Shift+Enter adds a line.';
    default:
      return 'Enter sends; Shift+Enter adds a line.';
  }
}

/** The message box, Send/Stop, and the per-run choices (HITL, max revisions). */
export function Composer(props: ComposerProps) {
  const { phase, next, text, onText, onSend, onStop, settings, onSettings, pendingEdits, busy } = props;
  const mode = sendMode(phase, text);
  const running = phase === 'running';
  const locked = running || phase === 'watching' || phase === 'loading';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode && !busy) onSend();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (mode && !busy) onSend();
    }
  };

  const placeholder =
    phase === 'paused' || phase === 'failed'
      ? `Optional feedback for ${next[0] ?? 'the next step'} — or just press Send`
      : 'Write a travel-writing task, e.g. “Write about visiting Paris”';

  return (
    <form className="composer" onSubmit={submit} aria-label="Send a message">
      <div className="composer-row">
        <label htmlFor="message" className="visually-hidden">
          Message
        </label>
        <textarea
          id="message"
          name="message"
          rows={2}
          value={text}
          maxLength={MAX_MESSAGE_CHARS}
          placeholder={placeholder}
          aria-describedby="composer-hint"
          onChange={(event) => onText(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <div className="composer-buttons">
          {running ? (
            <button type="button" className="button danger" onClick={onStop}>
              Stop
            </button>
          ) : (
            <button type="submit" className="button primary" disabled={!mode || busy || locked}>
              Send
            </button>
          )}
        </div>
      </div>
      <div className="composer-options">
        <label className="toggle">
          <input
            type="checkbox"
            checked={settings.useHitl}
            onChange={(event) => onSettings({ useHitl: event.target.checked })}
            disabled={locked}
          />
          <span>Pause after each step (human in the loop)</span>
        </label>
        <label className="revisions">
          <span>Max revisions</span>
          <select
            value={settings.maxRevisions}
            onChange={(event) => onSettings({ maxRevisions: Number(event.target.value) })}
            disabled={locked}
          >
            {MAX_REVISIONS_CHOICES.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        {text.length > MAX_MESSAGE_CHARS * 0.9 && (
          <span className="counter">
            {text.length} / {MAX_MESSAGE_CHARS}
          </span>
        )}
      </div>
      <p id="composer-hint" className="composer-hint">
        {hint(phase, next, pendingEdits)}
      </p>
    </form>
  );
}
