// LangGraph's JS Client (@langchain/langgraph-sdk), run in Node, against a stack with sign-in on
// (python -m wayfarer.devstack --auth cognito, started here): a demo user's access token as the
// Client's default Authorization header carries the whole seed flow; without it, 401.
import { Client } from '@langchain/langgraph-sdk';
import { expect, test as base } from '@playwright/test';

import { CognitoIdentity } from '../src/auth/cognito';
import { parseConfig } from '../src/config';
import { checkSeedFlow } from './langgraph-sdk-flow';
import { demoUsers, startStack, type Stack } from './stack';

const test = base.extend<object, { authStack: Stack }>({
  authStack: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads fixture deps from this pattern
    async ({}, use) => {
      const stack = await startStack({ auth: 'cognito', log: 'devstack-langgraph-sdk-auth.log' });
      try {
        await use(stack);
      } finally {
        await stack.stop();
      }
    },
    { scope: 'worker', timeout: 150_000 },
  ],
});

test('LangGraph’s Client with a Bearer token runs the seed flow; without one it is refused', async ({ authStack }) => {
  const { auth } = parseConfig(await (await fetch(`${authStack.url}/config.json`)).json());
  const [user] = demoUsers(authStack.output());
  if (!auth || !user) throw new Error('The stack has no sign-in config or printed no demo user.');
  const signedIn = await new CognitoIdentity(auth).signIn(user.email, user.password);
  if (signedIn.kind !== 'signedIn') throw new Error(`Cognito asked for ${signedIn.kind}.`);

  await expect(new Client({ apiUrl: authStack.url }).threads.create()).rejects.toMatchObject({ status: 401 });
  const headers = { Authorization: `Bearer ${signedIn.tokens.accessToken}` };
  await checkSeedFlow(new Client({ apiUrl: authStack.url, defaultHeaders: headers }));
});
