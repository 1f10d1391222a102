import { useEffect, useState } from 'react';

import type { ApiClient } from '../api/client';

export type ServerHealth =
  | { state: 'checking' }
  | { state: 'up'; model: string; research: string }
  | { state: 'down'; message: string };

/** GET /health once at start: which model and research providers the server runs. */
export function useServerHealth(client: ApiClient): ServerHealth {
  const [health, setHealth] = useState<ServerHealth>({ state: 'checking' });
  useEffect(() => {
    let current = true;
    client
      .health()
      .then((h) => current && setHealth({ state: 'up', model: h.model, research: h.research }))
      .catch((error: unknown) =>
        current && setHealth({ state: 'down', message: error instanceof Error ? error.message : String(error) }),
      );
    return () => {
      current = false;
    };
  }, [client]);
  return health;
}
