import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { ApiClient } from './api/client';
import { App } from './App';
import { loadConfig } from './config';
import { ApiClientContext } from './hooks/useApiClient';
import './index.css';

const root = createRoot(document.getElementById('root') as HTMLElement);

loadConfig()
  .then((config) => {
    const client = new ApiClient({ apiUrl: config.apiUrl, streamUrl: config.streamUrl });
    root.render(
      <StrictMode>
        <ApiClientContext value={client}>
          <App />
        </ApiClientContext>
      </StrictMode>,
    );
    // Warm the markdown chunk once the first screen is up, so messages render without a flash.
    const warm = () => void import('./components/MarkdownView');
    if ('requestIdleCallback' in window) window.requestIdleCallback(warm);
    else setTimeout(warm, 200);
  })
  .catch((error: unknown) => {
    root.render(
      <main className="fatal" role="alert">
        <h1>Wayfarer could not start</h1>
        <p>{error instanceof Error ? error.message : String(error)}</p>
        <p>Check config.json next to index.html: {'{"apiUrl": "https://…", "streamUrl": "https://…"}'}, both optional.</p>
      </main>,
    );
  });
