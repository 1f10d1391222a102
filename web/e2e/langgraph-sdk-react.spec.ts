// LangGraph's React hook, useStream from @langchain/langgraph-sdk/react, in real Chromium against
// the stack: a test-only page (e2e/langgraph-sdk-page, built here into test-results, never into
// web/dist) served on the stack's origin writes the hook's state into the DOM.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

import type { Page } from '@playwright/test';

import { expect, test } from './fixtures';
import { FEEDBACK, TASK } from './langgraph-sdk-flow';
import { PAGE_BASE, PAGE_OUT } from './langgraph-sdk-page/vite.config';
import { WEB } from './stack';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

test.beforeAll(() => {
  const vite = join(WEB, 'node_modules/.bin/vite');
  const built = spawnSync(vite, ['build', '--config', 'e2e/langgraph-sdk-page/vite.config.ts'], { cwd: WEB, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`Building the useStream page failed:\n${built.stdout}${built.stderr}`);
});

/** Serves the built page under PAGE_BASE on the stack's origin; the API calls go to the stack. */
async function openPage(page: Page, query = ''): Promise<void> {
  await page.route(`**${PAGE_BASE}**`, (route) => {
    const file = new URL(route.request().url()).pathname.slice(PAGE_BASE.length) || 'index.html';
    return route.fulfill({ body: readFileSync(join(PAGE_OUT, file)), contentType: TYPES[extname(file)] ?? 'application/octet-stream' });
  });
  await page.goto(`${PAGE_BASE}${query}`);
}

/** What the page shows as JSON under data-testid=`id`. */
async function shown(page: Page, id: string): Promise<unknown> {
  return JSON.parse((await page.getByTestId(id).textContent()) || 'null');
}

/** Every text the first AI message in the list shows, with its node and whether the run was loading. */
function watchAiMessage(page: Page): Promise<void> {
  return page.evaluate(() => {
    const seen: { node: string; text: string; loading: string }[] = [];
    (window as unknown as { seen: typeof seen }).seen = seen;
    new MutationObserver(() => {
      const li = document.querySelector<HTMLElement>('[data-testid="messages"] li[data-type="ai"]');
      const loading = document.querySelector('[data-testid="loading"]')?.textContent ?? '';
      if (li) seen.push({ node: li.dataset.node ?? '', text: li.textContent ?? '', loading });
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

function runRequest(page: Page) {
  return page.waitForRequest((r) => r.method() === 'POST' && /\/threads\/[\w-]+\/runs\/stream$/.test(r.url()));
}

test('useStream runs the seed flow in Chromium: streams, pauses with the interrupt, resumes', async ({ page }) => {
  await openPage(page);
  await expect(page.getByTestId('loading')).toHaveText('false');
  await watchAiMessage(page);

  // Submit the task as a human message: the planner's message grows token by token, then the run pauses.
  await page.getByLabel('Task').fill(TASK);
  let request = runRequest(page);
  await page.getByRole('button', { name: 'Submit' }).click();
  expect((await request).postDataJSON()).toMatchObject({
    assistant_id: 'travel_writer',
    input: { messages: [{ type: 'human', content: TASK }] },
    stream_mode: expect.arrayContaining(['values', 'messages-tuple']),
  });
  await expect.poll(() => shown(page, 'interrupt')).toMatchObject({ value: { reason: 'hitl', next: ['travel_plan'] } });
  await expect(page.getByTestId('loading')).toHaveText('false');
  await expect(page.getByTestId('error')).toHaveText('');
  const paused = (await shown(page, 'values')) as Record<string, unknown>;
  expect(paused).toMatchObject({ task: TASK, plan: expect.stringContaining('Paris'), __interrupt__: [await shown(page, 'interrupt')] });
  const messages = page.getByTestId('messages').getByRole('listitem');
  await expect(messages).toHaveCount(2);
  await expect(messages.nth(0)).toHaveAttribute('data-type', 'human');
  await expect(messages.nth(0)).toHaveText(TASK);
  await expect(messages.nth(1)).toHaveAttribute('data-node', 'planner');
  await expect(messages.nth(1)).toContainText('📋 Step 1: Planning Complete');
  const seen = await page.evaluate(() => (window as unknown as { seen: { node: string; text: string; loading: string }[] }).seen);
  const streamed = new Set(seen.filter((s) => s.node === 'planner' && s.loading === 'true').map((s) => s.text));
  expect(streamed.size, 'texts the planner’s message showed while the run streamed').toBeGreaterThan(2);

  // Resume with feedback: travel_plan runs, and the run pauses before generate.
  await page.getByLabel('Feedback').fill(FEEDBACK);
  request = runRequest(page);
  await page.getByRole('button', { name: 'Resume' }).click();
  expect((await request).postDataJSON()).toMatchObject({ command: { resume: FEEDBACK } });
  await expect.poll(() => shown(page, 'interrupt')).toMatchObject({ value: { reason: 'hitl', next: ['generate'] } });
  await expect(page.getByTestId('loading')).toHaveText('false');
  const liveInterrupt = await shown(page, 'interrupt');
  const planned = (await shown(page, 'values')) as { queries: string[]; plan: string };
  expect(planned.plan).toBe(paused.plan);
  expect(planned.queries.length).toBeGreaterThan(0);
  await expect(messages).toHaveCount(4);
  await expect(messages.nth(2)).toHaveAttribute('data-type', 'human');
  await expect(messages.nth(2)).toHaveText(FEEDBACK);
  await expect(messages.nth(3)).toHaveAttribute('data-node', 'travel_plan');
  await expect(messages.nth(3)).toContainText('🔍 Step 2: Research Complete');

  // A reload reopens the thread from the server (GET /threads/{id}/state): the same values, still paused.
  await page.reload();
  await expect(page.getByTestId('thread')).not.toHaveText('');
  await expect.poll(() => shown(page, 'values')).toMatchObject({ plan: planned.plan, queries: planned.queries });
  await expect(messages).toHaveCount(4);
  // GET /state lists no interrupt in its tasks, so the hook reads the pause from `next` as a
  // breakpoint; the streamed interrupt's value would be welcome there too.
  expect([{ when: 'breakpoint' }, liveInterrupt]).toContainEqual(await shown(page, 'interrupt'));
  await expect(page.getByTestId('loading')).toHaveText('false');
});
