import { createContext, useContext } from 'react';

import type { ApiClient } from '../api/client';

/** The one ApiClient of the app, built from /config.json at start-up. */
export const ApiClientContext = createContext<ApiClient | null>(null);

export function useApiClient(): ApiClient {
  const client = useContext(ApiClientContext);
  if (!client) throw new Error('useApiClient needs an <ApiClientContext> provider above it.');
  return client;
}
