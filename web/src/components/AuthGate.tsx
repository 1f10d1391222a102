import { Fragment, type ReactNode } from 'react';

import { useAuth } from '../hooks/useAuth';
import { SignIn } from './SignIn';

/**
 * With sign-in on, the sign-in form comes before anything else; the app below is keyed by the
 * user, so nothing of one user's screen (threads, runs being read) survives into another's.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const auth = useAuth();
  if (!auth) return children;
  if (auth.state.status === 'signedOut') return <SignIn session={auth.session} notice={auth.state.notice} />;
  return <Fragment key={auth.state.user.id}>{children}</Fragment>;
}
