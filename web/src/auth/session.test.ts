import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { AuthError } from './provider';
import { AuthSession, REFRESH_RETRY_MS } from './session';
import { FakeIdentity, MemoryStorage } from './testing';
import { REFRESH_MARGIN_MS, TokenStore, refreshDueAt, userOf } from './tokens';

const HOUR = 60 * 60_000;
const MINUTE = 60_000;

function setup(storage = new MemoryStorage()) {
  const identity = new FakeIdentity({
    'alice@example.com': { sub: 'sub-alice', email: 'alice@example.com', password: 'right' },
    bob: { sub: 'sub-bob', password: 'right' },
    'temp@example.com': { sub: 'sub-temp', password: 'Temp0rary!', temporary: true },
  });
  const session = new AuthSession({ provider: identity, store: new TokenStore(storage, 'client1') });
  return { identity, session, storage };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-11-24T10:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('when a token is refreshed', () => {
  it('is due five minutes before expiry, or at half its lifetime when that is shorter', () => {
    const t0 = Date.now();
    expect(refreshDueAt({ accessToken: '', idToken: '', refreshToken: '', issuedAt: t0, expiresAt: t0 + HOUR })).toBe(
      t0 + HOUR - REFRESH_MARGIN_MS,
    );
    expect(refreshDueAt({ accessToken: '', idToken: '', refreshToken: '', issuedAt: t0, expiresAt: t0 + 6 * MINUTE })).toBe(
      t0 + 3 * MINUTE,
    );
  });

  it('refreshes on a timer shortly before expiry, not earlier, and again for the next token', async () => {
    const { identity, session } = setup();
    await session.signIn('alice@example.com', 'right');
    expect(await session.token()).toBe('access-1');

    await vi.advanceTimersByTimeAsync(HOUR - REFRESH_MARGIN_MS - 1);
    expect(identity.refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(identity.refreshes).toBe(1);
    expect(await session.token()).toBe('access-2');

    await vi.advanceTimersByTimeAsync(HOUR - REFRESH_MARGIN_MS);
    expect(identity.refreshes).toBe(2);
    expect(await session.token()).toBe('access-3');
    session.dispose();
  });

  it('refreshes before answering when the timer slept past the due time (a background tab)', async () => {
    const { identity, session } = setup();
    await session.signIn('alice@example.com', 'right');
    session.dispose(); // the timer never fires, as in a suspended tab
    vi.setSystemTime(Date.now() + HOUR - MINUTE);
    expect(await session.token()).toBe('access-2');
    expect(identity.refreshes).toBe(1);
    session.dispose();
  });

  it('makes one refresh for callers that ask at the same time', async () => {
    const { identity, session } = setup();
    await session.signIn('alice@example.com', 'right');
    session.dispose();
    vi.setSystemTime(Date.now() + HOUR);
    let open!: () => void;
    identity.gate = new Promise((resolve) => (open = resolve));
    const asked = [session.token(), session.token(), session.rejected('access-1')];
    open();
    expect(await Promise.all(asked)).toEqual(['access-2', 'access-2', 'access-2']);
    expect(identity.refreshes).toBe(1);
    session.dispose();
  });

  it('keeps the token and tries again later when Cognito cannot be reached', async () => {
    const { identity, session } = setup();
    await session.signIn('alice@example.com', 'right');
    identity.refreshAnswer = () => new AuthError('unreachable', 'Could not reach the sign-in service: offline');
    await vi.advanceTimersByTimeAsync(HOUR - REFRESH_MARGIN_MS);
    expect(identity.refreshes).toBe(1);
    expect(session.getState().status).toBe('signedIn');

    identity.refreshAnswer = null;
    await vi.advanceTimersByTimeAsync(REFRESH_RETRY_MS - 1);
    expect(identity.refreshes).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(identity.refreshes).toBe(2);
    expect(await session.token()).toBe('access-2');
    session.dispose();
  });

  it('asks to sign in again when Cognito refuses the refresh token (expired, revoked)', async () => {
    const { identity, session, storage } = setup();
    await session.signIn('alice@example.com', 'right');
    identity.refreshAnswer = () => new AuthError('refused', 'Refresh Token has expired');
    await vi.advanceTimersByTimeAsync(HOUR - REFRESH_MARGIN_MS);
    expect(session.getState()).toEqual({
      status: 'signedOut',
      notice: 'Your session has ended: Refresh Token has expired Sign in again.',
    });
    expect(await session.token()).toBeNull();
    expect(storage.length).toBe(0);
  });
});

describe('a 401 from the API', () => {
  it('refreshes once per rejected token: a later 401 for the same old token gets the new one', async () => {
    const { identity, session } = setup();
    await session.signIn('alice@example.com', 'right');
    expect(await session.rejected('access-1')).toBe('access-2');
    expect(await session.rejected('access-1')).toBe('access-2');
    expect(identity.refreshes).toBe(1);
    session.dispose();
  });

  it('after a fresh token was refused too, signs out with the server’s reason', async () => {
    const { session } = setup();
    await session.signIn('alice@example.com', 'right');
    session.expired('token has wrong audience');
    expect(session.getState()).toEqual({
      status: 'signedOut',
      notice: 'The server did not accept your sign-in (token has wrong audience). Sign in again.',
    });
  });
});

describe('signing in and out', () => {
  it('names the user by the ID token’s email, else the username', async () => {
    const { session } = setup();
    await session.signIn('alice@example.com', 'right');
    expect(session.getState()).toEqual({ status: 'signedIn', user: { id: 'sub-alice', name: 'alice@example.com' } });
    session.signOut();
    await session.signIn('bob', 'right');
    expect(session.getState()).toEqual({ status: 'signedIn', user: { id: 'sub-bob', name: 'bob' } });
    session.dispose();
  });

  it('passes Cognito’s message on for a wrong password and stays signed out', async () => {
    const { session } = setup();
    await expect(session.signIn('alice@example.com', 'wrong')).rejects.toThrow('Incorrect username or password.');
    expect(session.getState()).toEqual({ status: 'signedOut', notice: null });
  });

  it('a temporary password asks for a new one first, then signs in', async () => {
    const { session } = setup();
    const challenge = await session.signIn('temp@example.com', 'Temp0rary!');
    expect(challenge).toEqual({ username: 'temp@example.com', session: 'session-temp@example.com' });
    expect(session.getState().status).toBe('signedOut');
    await expect(session.setNewPassword(challenge!, 'short')).rejects.toThrow(/policy/);
    expect(await session.setNewPassword(challenge!, 'N3w-passw0rd')).toBeNull();
    expect(session.getState().status).toBe('signedIn');
    session.dispose();
  });

  it('keeps the tokens in the tab’s storage, so a reload stays signed in', async () => {
    const storage = new MemoryStorage();
    const first = setup(storage);
    await first.session.signIn('alice@example.com', 'right');
    first.session.dispose();
    const reloaded = setup(storage);
    expect(reloaded.session.getState()).toEqual({ status: 'signedIn', user: { id: 'sub-alice', name: 'alice@example.com' } });
    expect(await reloaded.session.token()).toBe('access-1');
    reloaded.session.dispose();
  });

  it('sign out forgets the tokens (memory and storage), tells subscribers, and stops refreshing', async () => {
    const { identity, session, storage } = setup();
    await session.signIn('alice@example.com', 'right');
    const heard = vi.fn();
    session.subscribe(heard);
    session.signOut();
    expect(heard).toHaveBeenCalledTimes(1);
    expect(session.getState()).toEqual({ status: 'signedOut', notice: null });
    expect(await session.token()).toBeNull();
    expect(storage.length).toBe(0);
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(identity.refreshes).toBe(0);
  });

  it('a refresh answered after sign-out does not sign anyone back in', async () => {
    const { identity, session } = setup();
    await session.signIn('alice@example.com', 'right');
    let open!: () => void;
    identity.gate = new Promise((resolve) => (open = resolve));
    const refreshing = session.rejected('access-1');
    session.signOut();
    open();
    expect(await refreshing).toBeNull();
    expect(session.getState().status).toBe('signedOut');
  });
});

describe('tokens in storage', () => {
  it('ignores what is not a token set', () => {
    const storage = new MemoryStorage();
    storage.setItem('wayfarer.auth.client1', '{"accessToken": 1}');
    expect(new TokenStore(storage, 'client1').read()).toBeNull();
    storage.setItem('wayfarer.auth.client1', 'not json');
    expect(new TokenStore(storage, 'client1').read()).toBeNull();
  });

  it('works without storage (blocked): memory only', () => {
    const store = new TokenStore(null, 'client1');
    store.write({ accessToken: 'a', idToken: 'i', refreshToken: 'r', issuedAt: 0, expiresAt: 1 });
    expect(store.read()).toBeNull();
  });

  it('reads the user from the access token when the ID token says nothing', () => {
    const tokens = { accessToken: 'x.eyJzdWIiOiJzMSIsInVzZXJuYW1lIjoiY2Fyb2wifQ.y', idToken: 'garbage', refreshToken: 'r', issuedAt: 0, expiresAt: 1 };
    expect(userOf(tokens)).toEqual({ id: 's1', name: 'carol' });
  });
});
