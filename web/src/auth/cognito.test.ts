// CognitoIdentity against a real Cognito API: moto's server (from the repository's Python
// environment, `make setup`), on a free local port. No AWS credentials anywhere: sign-in and
// refresh are unsigned calls.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { CognitoAuthConfig } from '../config';
import { CognitoIdentity } from './cognito';
import { AuthError } from './provider';
import { readClaims } from './tokens';

const MOTO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../.venv/bin/moto_server');
const REGION = 'us-east-1';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto did not answer ${url}`);
}

describe.skipIf(!existsSync(MOTO))('CognitoIdentity against moto’s Cognito', () => {
  let moto: ChildProcess | null = null;
  let config: CognitoAuthConfig;

  beforeAll(async () => {
    const port = await freePort();
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitFor(`${endpoint}/moto-api/`);
    // Setting the pool up is an admin's signed call; moto takes any key.
    const admin = new CognitoIdentityProviderClient({
      region: REGION,
      endpoint,
      credentials: { accessKeyId: 'admin', secretAccessKey: 'admin' },
    });
    const pool = await admin.send(new CreateUserPoolCommand({ PoolName: 'wayfarer-test' }));
    const userPoolId = pool.UserPool!.Id!;
    const client = await admin.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: 'web',
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }),
    );
    const user = async (name: string, password: string, permanent: boolean) => {
      await admin.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: name,
          UserAttributes: [{ Name: 'email', Value: name }],
          MessageAction: 'SUPPRESS',
          TemporaryPassword: permanent ? undefined : password,
        }),
      );
      if (permanent) {
        await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: name, Password: password, Permanent: true }));
      }
    };
    await user('alice@example.com', 'Alice-passw0rd', true);
    await user('new@example.com', 'Temp-passw0rd', false);
    config = { type: 'cognito', region: REGION, userPoolId, clientId: client.UserPoolClient!.ClientId!, endpoint };
  }, 30_000);

  afterAll(() => {
    moto?.kill('SIGTERM');
  });

  it('signs in with USER_PASSWORD_AUTH and no AWS credentials, and refreshes', async () => {
    let clock = 1_000_000;
    const identity = new CognitoIdentity(config, () => clock);
    const result = await identity.signIn('alice@example.com', 'Alice-passw0rd');
    expect(result.kind).toBe('signedIn');
    if (result.kind !== 'signedIn') return;
    const { tokens } = result;
    expect(tokens.issuedAt).toBe(1_000_000);
    expect(tokens.expiresAt).toBe(1_000_000 + 3600_000);
    expect(readClaims(tokens.accessToken)).toMatchObject({ token_use: 'access', client_id: config.clientId });
    expect(readClaims(tokens.idToken)).toMatchObject({ token_use: 'id', 'cognito:username': 'alice@example.com' });

    clock += 55 * 60_000;
    const fresh = await identity.refresh(tokens.refreshToken);
    expect(fresh.accessToken).not.toBe(tokens.accessToken);
    expect(fresh.refreshToken).toBe(tokens.refreshToken);
    expect(fresh.issuedAt).toBe(clock);
  });

  it('passes Cognito’s own message on for a wrong password', async () => {
    const identity = new CognitoIdentity(config);
    const error = await identity.signIn('alice@example.com', 'wrong').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ kind: 'refused', message: 'Incorrect username or password.' });
  });

  it('a temporary password: NEW_PASSWORD_REQUIRED, answered with RespondToAuthChallenge', async () => {
    const identity = new CognitoIdentity(config);
    const first = await identity.signIn('new@example.com', 'Temp-passw0rd');
    expect(first.kind).toBe('newPassword');
    if (first.kind !== 'newPassword') return;
    expect(first.challenge.username).toBe('new@example.com');
    const second = await identity.setNewPassword(first.challenge, 'Mine-passw0rd!');
    expect(second.kind).toBe('signedIn');
    expect((await identity.signIn('new@example.com', 'Mine-passw0rd!')).kind).toBe('signedIn');
  });

  it('a refresh token Cognito does not know is refused (sign in again), not "unreachable"', async () => {
    const error = await new CognitoIdentity(config).refresh('not-a-refresh-token').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'refused' });
  });

  it('says which service it could not reach', async () => {
    const port = await freePort();
    const identity = new CognitoIdentity({ ...config, endpoint: `http://127.0.0.1:${port}` });
    const error = await identity.signIn('alice@example.com', 'Alice-passw0rd').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unreachable' });
    expect((error as Error).message).toContain(`Could not reach the sign-in service (http://127.0.0.1:${port})`);
  });
});
