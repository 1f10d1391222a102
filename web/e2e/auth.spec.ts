// Signed-in users against the real stack with sign-in on: `python -m wayfarer.devstack --auth
// cognito` (a local Cognito pool on moto with two demo users, the API checking tokens), started
// by this file for its own worker. Threads belong to whoever signed in.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Page } from '@playwright/test';

import { aiMessage, chat, expect, messageBox, systemLine, test as base, threadButton, threadStatus } from './fixtures';
import { demoUsers, startStack, type DemoUser } from './stack';

const TASK = 'Write about visiting Paris';
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results');

const test = base.extend<object, { authStack: { url: string; users: DemoUser[] } }>({
  authStack: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads fixture deps from this pattern
    async ({}, use) => {
      const stack = await startStack({ auth: 'cognito', log: 'devstack-auth.log' });
      try {
        await use({ url: stack.url, users: demoUsers(stack.output()) });
      } finally {
        await stack.stop();
      }
    },
    { scope: 'worker', timeout: 150_000 },
  ],
  baseURL: async ({ authStack }, use) => use(authStack.url),
  // Each user starts with no threads on this stack; nothing to clear.
  // eslint-disable-next-line no-empty-pattern -- Playwright reads fixture deps from this pattern
  emptyThreadList: async ({}, use) => use(),
});

function threadList(page: Page) {
  return page.getByRole('navigation', { name: 'Threads' });
}

async function signIn(page: Page, user: DemoUser): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toHaveText(user.email);
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
}

/** The token keys in the tab's sessionStorage, and the access token they hold. */
function storedAuth(page: Page): Promise<{ keys: string[]; accessToken: string | null }> {
  return page.evaluate(() => {
    const keys = Object.keys(sessionStorage).filter((k) => k.startsWith('wayfarer.auth.'));
    const stored = keys[0] ? (JSON.parse(sessionStorage.getItem(keys[0]) ?? '{}') as { accessToken?: string }) : {};
    return { keys, accessToken: stored.accessToken ?? null };
  });
}

test('sign in first; A’s paused thread is A’s; after sign-out B sees none of it', async ({ page, authStack }) => {
  const [a, b] = authStack.users;
  if (!a || !b) throw new Error('The stack printed fewer than two demo users.');

  // Sign-in before anything else: no message box, no thread list.
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(messageBox(page)).toHaveCount(0);
  await expect(threadList(page)).toHaveCount(0);
  await page.screenshot({ path: join(SHOTS, 'signin.png') });
  await signIn(page, a);
  await expect(threadList(page)).toContainText('No threads yet.');

  // The seed flow: write about Paris, paused after the planner for the human.
  await messageBox(page).fill(TASK);
  await messageBox(page).press('Enter');
  await expect(aiMessage(page, 'planner')).toContainText('📋 Step 1: Planning Complete');
  await expect(systemLine(page, 'paused')).toHaveText('⏸️ Paused — next: travel_plan. Click Send to continue.');
  await expect(threadStatus(page, TASK)).toHaveText('paused');
  await expect(page).toHaveURL(/#\/t\//);
  await page.screenshot({ path: join(SHOTS, 'signed-in-paused.png') });

  // A reload keeps the tab signed in, and the list and the thread come from the server.
  await page.reload();
  await expect(page.getByTestId('signed-in-as')).toHaveText(a.email);
  await expect(threadButton(page, TASK)).toHaveAttribute('aria-current', 'page');
  await expect(aiMessage(page, 'planner')).toContainText('📋 Step 1: Planning Complete');

  // Sign out: the tokens and the screen are gone, the open thread leaves the URL.
  await signOut(page);
  await expect(messageBox(page)).toHaveCount(0);
  await expect(page).not.toHaveURL(/#\/t\//);
  expect((await storedAuth(page)).keys).toEqual([]);

  // B: an empty list, nothing of A's on screen, before and after a reload.
  await signIn(page, b);
  await expect(threadList(page)).toContainText('No threads yet.');
  await expect(threadList(page).getByRole('listitem')).toHaveCount(0);
  await expect(page.getByRole('main').getByRole('heading', { level: 1 })).toHaveText('Start a piece of travel writing');
  await expect(chat(page).locator('[data-kind]')).toHaveCount(0);
  await expect(threadButton(page, TASK)).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('signed-in-as')).toHaveText(b.email);
  await expect(threadList(page)).toContainText('No threads yet.');
  await expect(threadList(page).getByRole('listitem')).toHaveCount(0);

  // A again: the thread is still theirs.
  await signOut(page);
  await signIn(page, a);
  await expect(threadStatus(page, TASK)).toHaveText('paused');

  // Who is signed in, and Sign out, fit a small screen too.
  await page.setViewportSize({ width: 360, height: 780 });
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeInViewport();
  expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
});

test.describe('refusals', () => {
  test.use({
    // Cognito's answer to a wrong password, and the API's to another user's thread.
    expectedConsoleErrors: new RegExp(
      [
        String.raw`^HTTP 400 POST http://127\.0\.0\.1:\d+/$`,
        String.raw`^HTTP 404 GET http://127\.0\.0\.1:\d+/threads/[\w-]+(/state)?$`,
        String.raw`^Failed to load resource: the server responded with a status of (400|404)`,
      ].join('|'),
    ),
  });

  test('a wrong password shows Cognito’s message and signs no one in', async ({ page, authStack }) => {
    const [a] = authStack.users;
    await page.goto('/');
    await page.getByLabel('Email').fill(a!.email);
    await page.getByLabel('Password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Incorrect username or password.');
    await expect(messageBox(page)).toHaveCount(0);
    expect((await storedAuth(page)).keys).toEqual([]);
  });

  test('another user’s thread, opened by its link, is not found', async ({ page, authStack }) => {
    const [a, b] = authStack.users;
    await page.goto('/');
    await signIn(page, a!);
    await threadList(page).getByRole('button', { name: '+ New thread' }).click();
    await expect(page).toHaveURL(/#\/t\//);
    const link = page.url();
    await signOut(page);
    await signIn(page, b!);
    await page.goto(link);
    await expect(chat(page)).toContainText('does not exist on the server');
    await expect(threadList(page).getByRole('listitem')).toHaveCount(0);
  });
});

test.describe('tokens', () => {
  test.use({
    // The API's answer to the spoilt access token, before the refresh.
    expectedConsoleErrors: new RegExp(
      [
        String.raw`^HTTP 401 GET http://127\.0\.0\.1:\d+/threads(/[\w-]+(/state)?)?(\?limit=20)?$`,
        String.raw`^Failed to load resource: the server responded with a status of 401`,
      ].join('|'),
    ),
  });

  test('a thread started with curl shows in the list; a refused access token is refreshed once', async ({
    page,
    request,
    authStack,
  }) => {
    const [a] = authStack.users;
    await page.goto('/');
    await signIn(page, a!);
    const { accessToken } = await storedAuth(page);
    expect(accessToken).toBeTruthy();

    // As curl would: the stream answers until the run pauses.
    const answer = await request.post('/runs/stream', {
      headers: { Authorization: `Bearer ${accessToken}` },
      data: { message: 'Write about visiting Lima', use_hitl: true },
    });
    expect(answer.status()).toBe(200);
    expect(await answer.text()).toContain('"event":"interrupt"');
    await page.reload();
    await expect(threadStatus(page, 'Write about visiting Lima')).toHaveText('paused');

    // An access token the API refuses (as an expired one): refreshed, the request sent again.
    await page.evaluate(() => {
      const key = Object.keys(sessionStorage).find((k) => k.startsWith('wayfarer.auth.'))!;
      const tokens = JSON.parse(sessionStorage.getItem(key)!) as { accessToken: string };
      sessionStorage.setItem(key, JSON.stringify({ ...tokens, accessToken: `${tokens.accessToken}x` }));
    });
    const refused: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 401) refused.push(response.request().headers().authorization ?? '');
    });
    await page.reload();
    await expect(threadStatus(page, 'Write about visiting Lima')).toHaveText('paused');
    await expect(page.getByTestId('signed-in-as')).toHaveText(a!.email);
    const after = await storedAuth(page);
    expect(after.accessToken).not.toBe(`${accessToken}x`);
    expect(after.accessToken).not.toBe(accessToken);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((h) => h === `Bearer ${accessToken}x`)).toBe(true);
  });
});
