import { useAuth } from '../hooks/useAuth';

/**
 * Who is signed in, and Sign out; nothing when the app runs without sign-in. `onSigningOut`
 * lets the screen forget what is the user's own (the open thread in the URL) first.
 */
export function UserBadge({ onSigningOut }: { onSigningOut: () => void }) {
  const auth = useAuth();
  if (!auth || auth.state.status !== 'signedIn') return null;
  const { session, state } = auth;
  return (
    <span className="user">
      <span className="user-name" title={state.user.name}>
        <span className="visually-hidden">Signed in as </span>
        <span data-testid="signed-in-as">{state.user.name}</span>
      </span>
      <button
        type="button"
        className="button small"
        onClick={() => {
          onSigningOut();
          session.signOut();
        }}
      >
        Sign out
      </button>
    </span>
  );
}
