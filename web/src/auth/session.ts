// The signed-in user of this tab: their tokens, kept fresh. The API client asks it for the
// access token before each request (api/bearer.ts), and tells it when the API refused one.
import type { TokenSource } from '../api/bearer';
import { AuthError, type IdentityProvider, type NewPasswordChallenge } from './provider';
import { refreshDueAt, userOf, type SignedInUser, type Tokens, type TokenStore } from './tokens';

/** Signed out with `notice`: why the user must sign in again (a session that ended), if so. */
export type AuthState = { status: 'signedOut'; notice: string | null } | { status: 'signedIn'; user: SignedInUser };

/** After a refresh that got no answer, try again this much later (while the token lasts). */
export const REFRESH_RETRY_MS = 30_000;

export interface AuthSessionOptions {
  provider: IdentityProvider;
  store: TokenStore;
  now?: () => number;
}

/**
 * Signs in and out, and refreshes the access token shortly before it expires, on a timer and,
 * should the timer have slept (a background tab, a laptop lid), when a request asks for it.
 * One refresh at a time: every caller waiting meanwhile gets its result.
 */
export class AuthSession implements TokenSource {
  private readonly provider: IdentityProvider;
  private readonly store: TokenStore;
  private readonly now: () => number;
  private tokens: Tokens | null;
  private state: AuthState;
  private refreshing: Promise<string | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor({ provider, store, now = Date.now }: AuthSessionOptions) {
    this.provider = provider;
    this.store = store;
    this.now = now;
    this.tokens = store.read();
    this.state = this.tokens ? { status: 'signedIn', user: userOf(this.tokens) } : { status: 'signedOut', notice: null };
    if (this.tokens) this.schedule(refreshDueAt(this.tokens));
  }

  // Arrow properties: useSyncExternalStore calls them unbound.
  readonly getState = (): AuthState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Resolves null once signed in, or with the challenge to answer first; throws AuthError. */
  async signIn(username: string, password: string): Promise<NewPasswordChallenge | null> {
    const result = await this.provider.signIn(username.trim(), password);
    if (result.kind === 'newPassword') return result.challenge;
    this.accept(result.tokens);
    return null;
  }

  async setNewPassword(challenge: NewPasswordChallenge, newPassword: string): Promise<NewPasswordChallenge | null> {
    const result = await this.provider.setNewPassword(challenge, newPassword);
    if (result.kind === 'newPassword') return result.challenge;
    this.accept(result.tokens);
    return null;
  }

  /** Forgets the tokens (memory and storage); the screen goes back to the sign-in form. */
  signOut(): void {
    this.end(null);
  }

  /** The access token to send now: refreshed first when it is due (or null: signed out). */
  async token(): Promise<string | null> {
    if (!this.tokens) return null;
    if (this.now() >= refreshDueAt(this.tokens)) return this.refresh();
    return this.tokens.accessToken;
  }

  /** The API answered 401 to `token`: a new one, refreshed unless that already happened. */
  async rejected(token: string): Promise<string | null> {
    if (!this.tokens) return null;
    if (this.tokens.accessToken !== token) return this.tokens.accessToken;
    return this.refresh();
  }

  /** The API refused even a fresh token: the user has to sign in again. */
  expired(detail: string): void {
    if (this.tokens) this.end(`The server did not accept your sign-in (${detail}). Sign in again.`);
  }

  /** Stops the refresh timer (the session is being thrown away). */
  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private refresh(): Promise<string | null> {
    const tokens = this.tokens;
    if (!tokens) return Promise.resolve(null);
    this.refreshing ??= this.provider
      .refresh(tokens.refreshToken)
      .then(
        (fresh) => {
          // Signed out (or in again) meanwhile: this answer is for tokens nobody holds.
          if (this.tokens !== tokens) return this.tokens?.accessToken ?? null;
          this.accept(fresh);
          return fresh.accessToken;
        },
        (error: unknown) => {
          if (this.tokens !== tokens) return this.tokens?.accessToken ?? null;
          if (error instanceof AuthError && error.kind === 'refused') {
            this.end(`Your session has ended: ${error.message} Sign in again.`);
            return null;
          }
          // No answer: keep the token while it lasts, and try again a little later.
          this.schedule(this.now() + REFRESH_RETRY_MS);
          return tokens.accessToken;
        },
      )
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private accept(tokens: Tokens): void {
    this.tokens = tokens;
    this.store.write(tokens);
    this.schedule(refreshDueAt(tokens));
    const user = userOf(tokens);
    const same = this.state.status === 'signedIn' && this.state.user.id === user.id && this.state.user.name === user.name;
    if (!same) this.publish({ status: 'signedIn', user });
  }

  private end(notice: string | null): void {
    this.dispose();
    this.tokens = null;
    this.refreshing = null;
    this.store.write(null);
    this.publish({ status: 'signedOut', notice });
  }

  private schedule(at: number): void {
    this.dispose();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, Math.max(0, at - this.now()));
  }

  private publish(state: AuthState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}
