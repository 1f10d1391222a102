// The one place a request gets `Authorization: Bearer <access token>`: the ApiClient's fetch,
// wrapped. A 401 trades the token for a fresh one and tries once more; a second 401 (or no fresh
// token to try) means the user has to sign in again.

/** Where the access token comes from (auth/session.ts). */
export interface TokenSource {
  /** The token to send now, or null (signed out). */
  token(): Promise<string | null>;
  /** The API answered 401 to `token`: a fresh one to try, or null when there is none. */
  rejected(token: string): Promise<string | null>;
  /** The API refused a fresh token too; `detail` is its reason. */
  expired(detail: string): void;
}

/** The server's reason for a 401: its JSON `detail`, else the status text. Leaves the body unread. */
async function reasonOf(response: Response): Promise<string> {
  try {
    const body = (await response.clone().json()) as { detail?: unknown } | null;
    if (typeof body?.detail === 'string' && body.detail) return body.detail;
  } catch {
    // not JSON
  }
  return response.statusText || 'HTTP 401';
}

/**
 * `fetchImpl` with the bearer token. Requests are (url, init) with a replayable body (a string,
 * as every ApiClient request has), so the retry after a refresh sends the same request again.
 */
export function withBearer(fetchImpl: typeof fetch, tokens: TokenSource): typeof fetch {
  const send = (input: RequestInfo | URL, init: RequestInit | undefined, token: string | null) => {
    const headers = new Headers(init?.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    return fetchImpl(input, { ...init, headers });
  };
  return async (input, init) => {
    const token = await tokens.token();
    const first = await send(input, init, token);
    if (first.status !== 401) return first;
    const fresh = token ? await tokens.rejected(token) : null;
    if (!fresh || fresh === token) {
      tokens.expired(await reasonOf(first));
      return first;
    }
    await first.body?.cancel().catch(() => undefined);
    const second = await send(input, init, fresh);
    if (second.status === 401) tokens.expired(await reasonOf(second));
    return second;
  };
}
