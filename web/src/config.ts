// Where the API lives is decided at deploy time, not build time: /config.json is written next to
// the built files ({"apiUrl": "...", "streamUrl": "..."}), so one build serves local and cloud.
// Missing or empty values mean same origin.

export interface RuntimeConfig {
  apiUrl: string;
  streamUrl: string;
}

function url(value: unknown, name: string): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string') throw new Error(`config.json: "${name}" must be a URL string.`);
  const parsed = new URL(value); // throws a clear TypeError for a malformed URL
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`config.json: "${name}" must be an http(s) URL, not ${parsed.protocol}`);
  }
  return value.replace(/\/+$/, '');
}

/** Reads the shape of config.json; unknown keys are ignored. */
export function parseConfig(raw: unknown): RuntimeConfig {
  const source = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const apiUrl = url(source.apiUrl, 'apiUrl');
  const streamUrl = url(source.streamUrl, 'streamUrl') || apiUrl;
  return { apiUrl, streamUrl };
}

/** Fetches /config.json (relative to the app's base); a missing file means same origin. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  const response = await fetchImpl(`${import.meta.env.BASE_URL}config.json`, { cache: 'no-store' });
  if (response.status === 404) return parseConfig({});
  if (!response.ok) throw new Error(`Could not load config.json (HTTP ${response.status}).`);
  return parseConfig(await response.json());
}
