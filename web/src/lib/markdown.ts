// Markdown from the model is untrusted: marked renders it, DOMPurify strips anything active.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

// breaks: the agent writes line by line ("Working title: …\nAngle: …"); keep its lines.
const marked = new Marked({ gfm: true, breaks: true, async: false });

/** Safe DOM for a markdown text; links open in a new tab without a window.opener. */
export function renderMarkdown(source: string): DocumentFragment {
  const html = marked.parse(source) as string;
  const fragment = DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, RETURN_DOM_FRAGMENT: true });
  for (const link of fragment.querySelectorAll('a[href]')) {
    link.setAttribute('target', '_blank');
    link.setAttribute('rel', 'noopener noreferrer');
  }
  return fragment;
}
