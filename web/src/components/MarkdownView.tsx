import { useLayoutEffect, useRef } from 'react';

import { renderMarkdown } from '../lib/markdown';

export interface MarkdownProps {
  text: string;
  className?: string | undefined;
}

/** Sanitized markdown; re-rendered only when the text changes. */
export default function MarkdownView({ text, className }: MarkdownProps) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    ref.current?.replaceChildren(renderMarkdown(text));
  }, [text]);
  return <div ref={ref} className={className ? `markdown ${className}` : 'markdown'} />;
}
