import { useId, useRef, useState, type KeyboardEvent } from 'react';

import type { NodeName, StateEdit, StateValues } from '../api/types';
import type { EditableField } from '../hooks/useStateEdits';
import { revisionText } from '../lib/graph';
import { groupSources, hostOf } from '../lib/research';
import { Markdown } from './Markdown';

type Tab = 'plan' | 'research' | 'draft' | 'critique';

const TABS: { id: Tab; label: string }[] = [
  { id: 'plan', label: 'Plan' },
  { id: 'research', label: 'Research' },
  { id: 'draft', label: 'Draft' },
  { id: 'critique', label: 'Critique' },
];

/** The panel that shows what a node is writing. */
const TAB_OF_NODE: Record<NodeName, Tab> = {
  planner: 'plan',
  travel_plan: 'research',
  generate: 'draft',
  reflect: 'critique',
  research_critique: 'research',
};

/** The field each writing node fills, for showing its tokens live. */
const FIELD_OF_NODE: Partial<Record<NodeName, EditableField>> = {
  planner: 'plan',
  generate: 'draft',
  reflect: 'critique',
};

interface WorkPanelsProps {
  values: StateValues;
  running: NodeName | null;
  /** Token text of the node being written, if any. */
  live: { node: NodeName; text: string } | null;
  /** Editing is allowed (the thread is paused). */
  editable: boolean;
  edits: StateEdit;
  saving: boolean;
  onEdit: (field: EditableField, text: string | undefined) => void;
  onSave: () => void;
}

function ResearchPanel({ values }: { values: StateValues }) {
  const queries = values.queries ?? [];
  const groups = groupSources(values.content ?? [], queries);
  if (!groups.length) return <p className="panel-empty">No research yet. The research step lists its queries and sources here.</p>;
  return (
    <div className="research">
      {groups.map((group) => (
        <section key={group.query || '(latest)'} className="query-group" data-testid="query-group">
          <h3>
            {group.query ? <q>{group.query}</q> : 'Latest sources'}
            {queries.includes(group.query) && <span className="badge">latest</span>}
          </h3>
          {group.sources.length ? (
            <ul>
              {group.sources.map((source) => (
                <li key={`${source.url}\n${source.title}`}>
                  <a href={source.url} target="_blank" rel="noopener noreferrer">
                    {source.title}
                  </a>{' '}
                  <span className="host">{hostOf(source.url)}</span>
                  {source.content && <p className="snippet">{source.content}</p>}
                </li>
              ))}
            </ul>
          ) : (
            <p className="panel-empty">No sources found for this query.</p>
          )}
        </section>
      ))}
    </div>
  );
}

interface TextPanelProps extends Omit<WorkPanelsProps, 'values' | 'running'> {
  field: EditableField;
  text: string | null | undefined;
  markdown: boolean;
  emptyText: string;
  liveText: string | null;
}

function TextPanel({ field, text, markdown, emptyText, liveText, editable, edits, saving, onEdit, onSave }: TextPanelProps) {
  const editing = edits[field];
  if (editable && editing !== undefined) {
    return (
      <div className="editor">
        <label htmlFor={`edit-${field}`} className="visually-hidden">
          Edit the {field}
        </label>
        <textarea
          id={`edit-${field}`}
          value={editing}
          onChange={(event) => onEdit(field, event.target.value)}
          rows={14}
          spellCheck
        />
        <div className="editor-actions">
          <button type="button" className="button primary small" onClick={onSave} disabled={saving}>
            {saving ? 'Saving…' : `Save ${field}`}
          </button>
          <button type="button" className="button small" onClick={() => onEdit(field, undefined)} disabled={saving}>
            Discard edit
          </button>
          <span className="editor-note">Send saves it too, before the run goes on.</span>
        </div>
      </div>
    );
  }
  const shown = liveText ?? text;
  return (
    <div className={liveText !== null ? 'panel-text live' : 'panel-text'}>
      {editable && (
        <div className="panel-actions">
          <button type="button" className="button small" onClick={() => onEdit(field, text ?? '')}>
            Edit {field}
          </button>
        </div>
      )}
      {shown ? (
        markdown ? (
          <Markdown text={shown} />
        ) : (
          <div className="plain" data-testid={`${field}-text`}>
            {shown}
          </div>
        )
      ) : (
        <p className="panel-empty">{emptyText}</p>
      )}
    </div>
  );
}

/** Plan, research, draft and critique; plan, draft and critique are editable while paused. */
export function WorkPanels(props: WorkPanelsProps) {
  const { values, running, live } = props;
  const baseId = useId();
  const tabRefs = useRef<Partial<Record<Tab, HTMLButtonElement | null>>>({});
  const [tab, setTab] = useState<Tab>('plan');
  // Follow the node that starts running, so its output is in view; the reader can switch away.
  const [followed, setFollowed] = useState<NodeName | null>(running);
  if (running !== followed) {
    setFollowed(running);
    if (running) setTab(TAB_OF_NODE[running]);
  }

  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = TABS.findIndex((t) => t.id === tab);
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const nextTab = TABS[(target + TABS.length) % TABS.length]?.id ?? 'plan';
    setTab(nextTab);
    tabRefs.current[nextTab]?.focus();
  };

  const liveFor = (field: EditableField): string | null =>
    live && FIELD_OF_NODE[live.node] === field ? live.text : null;
  const textPanel = (field: EditableField, markdown: boolean, emptyText: string) => (
    <TextPanel
      {...props}
      field={field}
      text={values[field]}
      markdown={markdown}
      emptyText={emptyText}
      liveText={liveFor(field)}
    />
  );

  return (
    <section className="work" aria-label="Work">
      <div role="tablist" aria-label="Work panels" className="tabs">
        {TABS.map((t) => {
          const unsaved = props.edits[t.id as EditableField] !== undefined;
          return (
            <button
              key={t.id}
              ref={(el) => {
                tabRefs.current[t.id] = el;
              }}
              type="button"
              role="tab"
              id={`${baseId}-tab-${t.id}`}
              aria-controls={`${baseId}-panel-${t.id}`}
              aria-selected={tab === t.id}
              tabIndex={tab === t.id ? 0 : -1}
              className="tab"
              onClick={() => setTab(t.id)}
              onKeyDown={onTabKey}
            >
              {t.label}
              {unsaved && <span aria-label=" (unsaved edit)"> •</span>}
            </button>
          );
        })}
      </div>
      <div
        role="tabpanel"
        id={`${baseId}-panel-${tab}`}
        aria-labelledby={`${baseId}-tab-${tab}`}
        className="tabpanel"
        tabIndex={0}
        data-testid={`panel-${tab}`}
      >
        {tab === 'plan' && textPanel('plan', false, 'No plan yet. The planner writes one first.')}
        {tab === 'research' && <ResearchPanel values={values} />}
        {tab === 'draft' && (
          <>
            <p className="panel-meta">
              {liveFor('draft') !== null
                ? `Writing draft ${(values.revision_number ?? 0) + 1} of ${(values.max_revisions ?? 2) + 1}…`
                : revisionText(values.revision_number, values.max_revisions)}
            </p>
            {textPanel('draft', true, 'No draft yet.')}
          </>
        )}
        {tab === 'critique' && textPanel('critique', true, 'No critique yet.')}
      </div>
    </section>
  );
}
