import { createContext, useContext, useSyncExternalStore } from 'react';

import type { AuthSession, AuthState } from '../auth/session';

/** The tab's sign-in session; null when config.json has no `auth` (no sign-in at all). */
export const AuthContext = createContext<AuthSession | null>(null);

export interface Auth {
  session: AuthSession;
  state: AuthState;
}

const NO_AUTH: AuthState = { status: 'signedOut', notice: null };
const subscribeNowhere = () => () => undefined;
const noAuthState = () => NO_AUTH;

/** Who is signed in, kept current; null when the app runs without sign-in. */
export function useAuth(): Auth | null {
  const session = useContext(AuthContext);
  const state = useSyncExternalStore(session?.subscribe ?? subscribeNowhere, session?.getState ?? noAuthState);
  return session ? { session, state } : null;
}
