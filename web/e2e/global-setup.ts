// Starts the real local stack for the e2e suite (e2e/stack.ts), without sign-in, and stops it
// afterwards. The `auth` project (auth.spec.ts) starts its own stack with sign-in on.
import { existsSync } from 'node:fs';

import { CHROMIUM } from '../playwright.config';
import { startStack } from './stack';

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run \`make chromium\` (apt-get install chromium).`);
  }
  if (process.env.WAYFARER_E2E_URL) return async () => undefined; // an already running stack

  const stack = await startStack({ log: 'devstack.log' });
  process.env.WAYFARER_E2E_URL = stack.url;
  // Ours alone: each test may start from an empty thread list (fixtures.ts).
  process.env.WAYFARER_E2E_OWN_STACK = '1';
  return stack.stop;
}
