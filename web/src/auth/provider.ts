// What the session needs from an identity provider: sign in, answer a new-password challenge,
// refresh. Cognito implements it (cognito.ts, which alone imports the AWS SDK); tests use a double.
import type { Tokens } from './tokens';

/** Cognito asks a user with a temporary password to choose their own before signing in. */
export interface NewPasswordChallenge {
  username: string;
  /** Cognito's opaque challenge session, answered with RespondToAuthChallenge. */
  session: string;
}

export type SignInResult = { kind: 'signedIn'; tokens: Tokens } | { kind: 'newPassword'; challenge: NewPasswordChallenge };

export interface IdentityProvider {
  signIn(username: string, password: string): Promise<SignInResult>;
  setNewPassword(challenge: NewPasswordChallenge, newPassword: string): Promise<SignInResult>;
  /** New access and ID tokens; the refresh token stays the same. */
  refresh(refreshToken: string): Promise<Tokens>;
}

/**
 * Signing in or refreshing failed. `refused`: the provider said no (wrong password, an expired
 * or revoked refresh token); the message is its own and worth showing. `unreachable`: no answer
 * (offline, a 5xx); trying again later may work.
 */
export class AuthError extends Error {
  readonly kind: 'refused' | 'unreachable';

  constructor(kind: 'refused' | 'unreachable', message: string) {
    super(message);
    this.name = 'AuthError';
    this.kind = kind;
  }
}
