import { useState, type FormEvent } from 'react';

import type { NewPasswordChallenge } from '../auth/provider';
import type { AuthSession } from '../auth/session';

interface SignInProps {
  session: AuthSession;
  /** Why the user is asked again (a session that ended), if so. */
  notice: string | null;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Email and password; then, for a temporary password, a new one of the user's own. */
export function SignIn({ session, notice }: SignInProps) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [challenge, setChallenge] = useState<NewPasswordChallenge | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const attempt = async (step: () => Promise<NewPasswordChallenge | null>) => {
    setBusy(true);
    setProblem(null);
    try {
      // Signed in: the session tells the gate, which replaces this form with the app.
      setChallenge(await step());
    } catch (error) {
      setProblem(describe(error));
    } finally {
      setBusy(false);
    }
  };

  const signIn = (event: FormEvent) => {
    event.preventDefault();
    void attempt(async () => {
      const next = await session.signIn(username, password);
      setPassword('');
      return next;
    });
  };

  const choosePassword = (event: FormEvent) => {
    event.preventDefault();
    if (!challenge) return;
    if (newPassword !== confirmation) {
      setProblem('The two new passwords differ. Type the same one twice.');
      return;
    }
    void attempt(() => session.setNewPassword(challenge, newPassword));
  };

  const back = () => {
    setChallenge(null);
    setNewPassword('');
    setConfirmation('');
    setProblem(null);
  };

  return (
    <main className="signin">
      <p className="brand">
        <span aria-hidden="true">🧭</span> Wayfarer
      </p>
      {challenge ? (
        <form className="signin-form" onSubmit={choosePassword} aria-labelledby="signin-heading">
          <h1 id="signin-heading">Choose a new password</h1>
          <p>
            {challenge.username} signs in with a temporary password for the first time: choose your own to
            continue.
          </p>
          <label>
            New password
            <input
              type="password"
              autoComplete="new-password"
              required
              autoFocus
              value={newPassword}
              onChange={(e) => setNewPassword(e.target.value)}
            />
          </label>
          <label>
            Confirm new password
            <input
              type="password"
              autoComplete="new-password"
              required
              value={confirmation}
              onChange={(e) => setConfirmation(e.target.value)}
            />
          </label>
          {problem && (
            <p className="signin-problem" role="alert">
              {problem}
            </p>
          )}
          <div className="signin-buttons">
            <button type="submit" className="button primary" disabled={busy}>
              {busy ? 'Setting password…' : 'Set password and sign in'}
            </button>
            <button type="button" className="button" onClick={back} disabled={busy}>
              Back
            </button>
          </div>
        </form>
      ) : (
        <form className="signin-form" onSubmit={signIn} aria-labelledby="signin-heading">
          <h1 id="signin-heading">Sign in</h1>
          {notice && (
            <p className="signin-notice" role="status">
              {notice}
            </p>
          )}
          <label>
            Email
            <input
              type="text"
              inputMode="email"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              required
              autoFocus
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          </label>
          <label>
            Password
            <input
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {problem && (
            <p className="signin-problem" role="alert">
              {problem}
            </p>
          )}
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      )}
    </main>
  );
}
