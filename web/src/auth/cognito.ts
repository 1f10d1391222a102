// Cognito's user-pool API through the AWS SDK: USER_PASSWORD_AUTH, NEW_PASSWORD_REQUIRED and
// REFRESH_TOKEN_AUTH for a public app client. The only module that imports the SDK; the app
// loads it (its own chunk) only when config.json has `auth`.
import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  type AuthenticationResultType,
  type ChallengeNameType,
} from '@aws-sdk/client-cognito-identity-provider';

import type { CognitoAuthConfig } from '../config';
import { AuthError, type IdentityProvider, type NewPasswordChallenge, type SignInResult } from './provider';
import type { Tokens } from './tokens';

/** What InitiateAuth and RespondToAuthChallenge both answer. */
interface AuthAnswer {
  AuthenticationResult?: AuthenticationResultType | undefined;
  ChallengeName?: ChallengeNameType | undefined;
  Session?: string | undefined;
  ChallengeParameters?: Record<string, string> | undefined;
}

interface SdkError {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
}

export class CognitoIdentity implements IdentityProvider {
  private readonly client: CognitoIdentityProviderClient;
  private readonly clientId: string;
  private readonly where: string;

  constructor(config: CognitoAuthConfig, private readonly now: () => number = Date.now) {
    this.clientId = config.clientId;
    this.where = config.endpoint ?? `cognito-idp.${config.region}.amazonaws.com`;
    // No credentials: InitiateAuth and RespondToAuthChallenge are modelled as unauthenticated
    // (smithy.api#noAuth), so the SDK sends them unsigned and never asks for AWS credentials.
    this.client = new CognitoIdentityProviderClient({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    });
  }

  async signIn(username: string, password: string): Promise<SignInResult> {
    const answer = await this.call(() =>
      this.client.send(
        new InitiateAuthCommand({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: this.clientId,
          AuthParameters: { USERNAME: username, PASSWORD: password },
        }),
      ),
    );
    return this.result(answer, username);
  }

  async setNewPassword(challenge: NewPasswordChallenge, newPassword: string): Promise<SignInResult> {
    const answer = await this.call(() =>
      this.client.send(
        new RespondToAuthChallengeCommand({
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          ClientId: this.clientId,
          Session: challenge.session,
          ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
        }),
      ),
    );
    return this.result(answer, challenge.username);
  }

  async refresh(refreshToken: string): Promise<Tokens> {
    const answer = await this.call(() =>
      this.client.send(
        new InitiateAuthCommand({
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: this.clientId,
          AuthParameters: { REFRESH_TOKEN: refreshToken },
        }),
      ),
    );
    if (!answer.AuthenticationResult) throw new AuthError('refused', 'Cognito did not renew the session.');
    // Cognito sends a new refresh token only when rotation is on; otherwise the old one stays valid.
    return this.tokens(answer.AuthenticationResult, refreshToken);
  }

  /** One Cognito call, its failure as an AuthError: refused (Cognito's message) or unreachable. */
  private async call(send: () => Promise<AuthAnswer>): Promise<AuthAnswer> {
    try {
      return await send();
    } catch (error) {
      const e = (error ?? {}) as SdkError;
      if (e.$fault === 'client') throw new AuthError('refused', e.message || e.name || 'Cognito refused the request.');
      throw new AuthError('unreachable', `Could not reach the sign-in service (${this.where}): ${e.message ?? String(error)}`);
    }
  }

  private result(answer: AuthAnswer, username: string): SignInResult {
    if (answer.AuthenticationResult) return { kind: 'signedIn', tokens: this.tokens(answer.AuthenticationResult, null) };
    if (answer.ChallengeName === 'NEW_PASSWORD_REQUIRED' && answer.Session) {
      const named = answer.ChallengeParameters?.USER_ID_FOR_SRP ?? answer.ChallengeParameters?.USERNAME;
      return { kind: 'newPassword', challenge: { username: named ?? username, session: answer.Session } };
    }
    throw new AuthError(
      'refused',
      `Cognito asks for ${answer.ChallengeName ?? 'a step'} to sign in, which this app does not support. Ask your administrator.`,
    );
  }

  private tokens(result: AuthenticationResultType, keptRefreshToken: string | null): Tokens {
    const refreshToken = result.RefreshToken ?? keptRefreshToken;
    if (!result.AccessToken || !result.IdToken || !refreshToken) {
      throw new AuthError('refused', 'Cognito answered without the tokens this app needs (access, ID and refresh).');
    }
    const issuedAt = this.now();
    return {
      accessToken: result.AccessToken,
      idToken: result.IdToken,
      refreshToken,
      issuedAt,
      expiresAt: issuedAt + (result.ExpiresIn ?? 3600) * 1000,
    };
  }
}
