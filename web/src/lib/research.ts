import type { Source } from '../api/types';

export interface SourceGroup {
  query: string;
  sources: Source[];
}

/** Sources grouped by the query that found them, in the order the queries ran; queries that
 * found nothing get an empty group. */
export function groupSources(content: Source[], queries: string[]): SourceGroup[] {
  const groups = new Map<string, Source[]>();
  for (const source of content) {
    const list = groups.get(source.query) ?? [];
    list.push(source);
    groups.set(source.query, list);
  }
  for (const query of queries) if (!groups.has(query)) groups.set(query, []);
  return [...groups].map(([query, sources]) => ({ query, sources }));
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
