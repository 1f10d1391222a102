// Doubles for auth tests: an identity provider that hands out numbered tokens, and a Storage.
import { AuthError, type IdentityProvider, type NewPasswordChallenge, type SignInResult } from './provider';
import type { Tokens } from './tokens';

/** An unsigned JWT with these claims (the browser reads claims, it never verifies). */
export function jwt(claims: Record<string, unknown>): string {
  const part = (value: object) => btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${part({ alg: 'none' })}.${part(claims)}.sig`;
}

export class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

interface User {
  sub: string;
  email?: string;
  password: string;
  temporary?: boolean;
}

/**
 * Cognito as the session sees it. Access tokens are `access-<n>`; `lifetimeMs` is ExpiresIn.
 * `refreshAnswer` decides each refresh: new tokens (default), or an AuthError.
 */
export class FakeIdentity implements IdentityProvider {
  issued = 0;
  refreshes = 0;
  lifetimeMs = 60 * 60_000;
  refreshAnswer: (() => AuthError | null) | null = null;
  /** While set, refreshes wait for it: tests hold one open to see callers share it. */
  gate: Promise<void> | null = null;

  constructor(
    private readonly users: Record<string, User>,
    private readonly now: () => number = Date.now,
  ) {}

  tokensFor(username: string, refreshToken = `refresh-${username}`): Tokens {
    const user = this.users[username]!;
    this.issued += 1;
    const issuedAt = this.now();
    const claims: Record<string, unknown> = { sub: user.sub, 'cognito:username': username, token_use: 'id' };
    if (user.email) claims.email = user.email;
    return {
      accessToken: `access-${this.issued}`,
      idToken: jwt(claims),
      refreshToken,
      issuedAt,
      expiresAt: issuedAt + this.lifetimeMs,
    };
  }

  async signIn(username: string, password: string): Promise<SignInResult> {
    const user = this.users[username];
    if (!user || user.password !== password) throw new AuthError('refused', 'Incorrect username or password.');
    if (user.temporary) return { kind: 'newPassword', challenge: { username, session: `session-${username}` } };
    return { kind: 'signedIn', tokens: this.tokensFor(username) };
  }

  async setNewPassword(challenge: NewPasswordChallenge, newPassword: string): Promise<SignInResult> {
    const user = this.users[challenge.username]!;
    if (newPassword.length < 8) throw new AuthError('refused', 'Password does not conform to policy: Password not long enough');
    user.password = newPassword;
    user.temporary = false;
    return { kind: 'signedIn', tokens: this.tokensFor(challenge.username) };
  }

  async refresh(refreshToken: string): Promise<Tokens> {
    this.refreshes += 1;
    if (this.gate) await this.gate;
    const failure = this.refreshAnswer?.();
    if (failure) throw failure;
    return this.tokensFor(refreshToken.replace(/^refresh-/, ''), refreshToken);
  }
}
