import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { ApiClient } from './api/client';
import { App } from './App';
import { AuthSession } from './auth/session';
import { TokenStore } from './auth/tokens';
import { AuthGate } from './components/AuthGate';
import { loadConfig, type CognitoAuthConfig } from './config';
import { ApiClientContext } from './hooks/useApiClient';
import { AuthContext } from './hooks/useAuth';
import './index.css';

const root = createRoot(document.getElementById('root') as HTMLElement);

function tabStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage blocked: tokens live in memory only
  }
}

/** The sign-in session; the AWS SDK is its own chunk, loaded only when sign-in is on. */
async function startSession(auth: CognitoAuthConfig): Promise<AuthSession> {
  const { CognitoIdentity } = await import('./auth/cognito');
  return new AuthSession({ provider: new CognitoIdentity(auth), store: new TokenStore(tabStorage(), auth.clientId) });
}

async function start(): Promise<void> {
  const config = await loadConfig();
  const session = config.auth ? await startSession(config.auth) : null;
  const client = new ApiClient({ apiUrl: config.apiUrl, streamUrl: config.streamUrl, tokens: session ?? undefined });
  root.render(
    <StrictMode>
      <AuthContext value={session}>
        <ApiClientContext value={client}>
          <AuthGate>
            <App />
          </AuthGate>
        </ApiClientContext>
      </AuthContext>
    </StrictMode>,
  );
  // Warm the markdown chunk once the first screen is up, so messages render without a flash.
  const warm = () => void import('./components/MarkdownView');
  if ('requestIdleCallback' in window) window.requestIdleCallback(warm);
  else setTimeout(warm, 200);
}

start().catch((error: unknown) => {
  root.render(
    <main className="fatal" role="alert">
      <h1>Wayfarer could not start</h1>
      <p>{error instanceof Error ? error.message : String(error)}</p>
      <p>
        Check config.json next to index.html: {'{"apiUrl": "https://…", "streamUrl": "https://…"}'}, both optional,
        and for sign-in {'"auth": {"type": "cognito", "region": "…", "userPoolId": "…", "clientId": "…"}'}.
      </p>
    </main>,
  );
});
