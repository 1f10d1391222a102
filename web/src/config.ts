// Where the API lives, and who may call it, is decided at deploy time, not build time:
// /config.json is written next to the built files, so one build serves local and cloud.
//   {"apiUrl": "...", "streamUrl": "...",
//    "auth": {"type": "cognito", "region": "...", "userPoolId": "...", "clientId": "...", "endpoint"?: "..."}}
// Missing or empty URLs mean same origin; a missing or null `auth` means no sign-in.

/** A Cognito user pool app client (public: no secret) that the browser signs in with. */
export interface CognitoAuthConfig {
  type: 'cognito';
  region: string;
  userPoolId: string;
  clientId: string;
  /** The Cognito API to call instead of AWS's (a local moto server); null in the cloud. */
  endpoint: string | null;
}

export interface RuntimeConfig {
  apiUrl: string;
  streamUrl: string;
  /** null: the API takes no token and the app shows no sign-in. */
  auth: CognitoAuthConfig | null;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function url(value: unknown, name: string): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string') throw new Error(`config.json: "${name}" must be a URL string.`);
  const parsed = new URL(value); // throws a clear TypeError for a malformed URL
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`config.json: "${name}" must be an http(s) URL, not ${parsed.protocol}`);
  }
  return value.replace(/\/+$/, '');
}

function text(source: Record<string, unknown>, key: string): string {
  const value = source[key];
  if (typeof value !== 'string' || !value.trim()) {
    throw new Error(`config.json: "auth.${key}" must be a non-empty string.`);
  }
  return value.trim();
}

function parseAuth(raw: unknown): CognitoAuthConfig | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error('config.json: "auth" must be an object like {"type": "cognito", ...}, or null for no sign-in.');
  }
  const source = raw as Record<string, unknown>;
  if (source.type !== 'cognito') {
    throw new Error(`config.json: "auth.type" must be "cognito", not ${JSON.stringify(source.type)}.`);
  }
  const region = text(source, 'region');
  if (!REGION.test(region)) throw new Error(`config.json: "auth.region" is not an AWS region: ${region}`);
  const userPoolId = text(source, 'userPoolId');
  // Cognito names a pool <region>_<id>: a mismatch is a copy-paste slip that only fails later.
  if (!userPoolId.startsWith(`${region}_`)) {
    throw new Error(`config.json: "auth.userPoolId" (${userPoolId}) is not a pool of region ${region}.`);
  }
  const clientId = text(source, 'clientId');
  const endpoint = url(source.endpoint, 'auth.endpoint') || null;
  return { type: 'cognito', region, userPoolId, clientId, endpoint };
}

/** Reads the shape of config.json; unknown keys are ignored. */
export function parseConfig(raw: unknown): RuntimeConfig {
  const source = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const apiUrl = url(source.apiUrl, 'apiUrl');
  const streamUrl = url(source.streamUrl, 'streamUrl') || apiUrl;
  return { apiUrl, streamUrl, auth: parseAuth(source.auth) };
}

/** Fetches /config.json (relative to the app's base); a missing file means same origin. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  const response = await fetchImpl(`${import.meta.env.BASE_URL}config.json`, { cache: 'no-store' });
  if (response.status === 404) return parseConfig({});
  if (!response.ok) throw new Error(`Could not load config.json (HTTP ${response.status}).`);
  return parseConfig(await response.json());
}
