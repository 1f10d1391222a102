import { lazy, Suspense } from 'react';

import type { MarkdownProps } from './MarkdownView';

// marked + DOMPurify are a third of the bundle and only needed once the agent has written
// something, so they load in their own chunk (main.tsx fetches it while the browser is idle).
const MarkdownView = lazy(() => import('./MarkdownView'));

/** Markdown text; shown as plain text for the moment its renderer is still loading. */
export function Markdown({ text, className }: MarkdownProps) {
  return (
    <Suspense fallback={<div className={className ? `plain ${className}` : 'plain'}>{text}</div>}>
      <MarkdownView text={text} className={className} />
    </Suspense>
  );
}
