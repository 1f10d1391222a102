// LangGraph's JS Client (@langchain/langgraph-sdk), run in Node, against the stack that
// global-setup started (no sign-in): the seed flow of e2e/langgraph-sdk-flow.ts. No browser.
import { Client } from '@langchain/langgraph-sdk';
import { test } from '@playwright/test';

import { checkSeedFlow } from './langgraph-sdk-flow';

test('LangGraph’s Client streams the seed flow, pauses, reads state and history, resumes', async () => {
  const apiUrl = process.env.WAYFARER_E2E_URL;
  if (!apiUrl) throw new Error('WAYFARER_E2E_URL is not set: global-setup did not start the stack.');
  await checkSeedFlow(new Client({ apiUrl }));
});
