// A signed-in user's Cognito tokens: what they say about the user, when to refresh them, and
// where they are kept (sessionStorage: see web/README.md, "Signing in").

export interface Tokens {
  /** Sent to the API as `Authorization: Bearer …`. */
  accessToken: string;
  /** Read for who is signed in (its `email` claim); never sent to the API. */
  idToken: string;
  /** Trades for new access and ID tokens (REFRESH_TOKEN_AUTH). */
  refreshToken: string;
  /** Epoch milliseconds, by this browser's clock, when Cognito answered. */
  issuedAt: number;
  /** Epoch milliseconds when the access token expires: issuedAt + ExpiresIn. */
  expiresAt: number;
}

export interface SignedInUser {
  /** Cognito's stable user id (`sub`): a different sub is a different user. */
  id: string;
  /** What the screen shows: the email, else the username. */
  name: string;
}

/** Refresh this long before the access token expires (at most half its lifetime before). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/** When to trade the refresh token for a new access token. */
export function refreshDueAt(tokens: Tokens): number {
  const lifetime = Math.max(0, tokens.expiresAt - tokens.issuedAt);
  return tokens.expiresAt - Math.min(REFRESH_MARGIN_MS, lifetime / 2);
}

/** The claims of a JWT, unverified: the API verifies tokens, the browser only reads names. */
export function readClaims(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function claim(claims: Record<string, unknown>, name: string): string | null {
  const value = claims[name];
  return typeof value === 'string' && value ? value : null;
}

export function userOf(tokens: Tokens): SignedInUser {
  const id = readClaims(tokens.idToken);
  const access = readClaims(tokens.accessToken);
  return {
    id: claim(id, 'sub') ?? claim(access, 'sub') ?? '',
    name: claim(id, 'email') ?? claim(id, 'cognito:username') ?? claim(access, 'username') ?? 'signed-in user',
  };
}

function isTokens(value: unknown): value is Tokens {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t.accessToken === 'string' &&
    typeof t.idToken === 'string' &&
    typeof t.refreshToken === 'string' &&
    typeof t.issuedAt === 'number' &&
    typeof t.expiresAt === 'number'
  );
}

/** Tokens in a Storage (sessionStorage), one key per app client; never throws. */
export class TokenStore {
  private readonly key: string;

  constructor(
    private readonly storage: Storage | null,
    clientId: string,
  ) {
    this.key = `wayfarer.auth.${clientId}`;
  }

  read(): Tokens | null {
    try {
      const raw = this.storage?.getItem(this.key);
      if (!raw) return null;
      const parsed: unknown = JSON.parse(raw);
      return isTokens(parsed) ? parsed : null;
    } catch {
      return null;
    }
  }

  write(tokens: Tokens | null): void {
    try {
      if (tokens) this.storage?.setItem(this.key, JSON.stringify(tokens));
      else this.storage?.removeItem(this.key);
    } catch {
      // Storage unavailable (a private window, a full quota): the tokens live in memory only.
    }
  }
}
