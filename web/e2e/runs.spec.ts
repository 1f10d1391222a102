// Runs this screen does not read from start to end in one connection: a stream that breaks off,
// a run joined after a reload, a run stopped mid-node. The run goes on on the server whatever
// the browser does; the screen rejoins it by run id and shows each event once.
import type { Page } from '@playwright/test';

import {
  aiMessage,
  apiCalls,
  chat,
  expect,
  messageBox,
  phase,
  systemLine,
  test,
  threadButton,
  threadStatus,
} from './fixtures';

const JOIN = /^GET \/threads\/[^/]+\/runs\/[^/]+\/stream$/;
const CANCEL = /^POST \/threads\/[^/]+\/runs\/[^/]+\/cancel$/;

function isJoin(url: URL): boolean {
  return /^\/threads\/[^/]+\/runs\/[^/]+\/stream$/.test(url.pathname);
}

/** Hand the page only the first events of POST /runs/stream, cut before the first node event:
 * as if the connection dropped mid-run. The run itself happens in full on the server. */
async function cutRunStreams(page: Page): Promise<void> {
  await page.route('**/runs/stream', async (route) => {
    const response = await route.fetch();
    const body = await response.text();
    const cut = body.indexOf('data: {"event":"node",');
    expect(cut).toBeGreaterThan(0);
    await route.fulfill({ response, body: body.slice(0, cut) });
  });
}

type Most = Record<string, number>;

/**
 * From the next page load on, records the most chat entries of each kind the page ever showed
 * at once (per node for AI messages, plus "live" for text being written): an observer inside
 * the page, at every DOM change, so a duplicate that showed for a moment is caught too.
 */
async function recordMostShown(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const most: Record<string, number> = {};
    (window as unknown as { __most: Record<string, number> }).__most = most;
    new MutationObserver(() => {
      const now: Record<string, number> = { live: document.querySelectorAll('[data-kind="live"]').length };
      for (const entry of document.querySelectorAll('[data-kind="ai"]')) {
        const node = entry.getAttribute('data-node') ?? 'agent';
        now[node] = (now[node] ?? 0) + 1;
      }
      for (const [kind, count] of Object.entries(now)) most[kind] = Math.max(most[kind] ?? 0, count);
    }).observe(document, { subtree: true, childList: true });
  });
}

function mostShown(page: Page): Promise<Most> {
  return page.evaluate(() => (window as unknown as { __most: Record<string, number> }).__most);
}

test('a stream that breaks off: the screen rejoins the run and shows every event once', async ({ page }) => {
  const calls = apiCalls(page);
  await cutRunStreams(page);
  await page.goto('/');
  await messageBox(page).fill('Write about visiting Paris');
  await messageBox(page).press('Enter');
  // What the cut stream never delivered, the join did: the planner's message and the pause.
  await expect(systemLine(page, 'paused')).toHaveText('⏸️ Paused — next: travel_plan. Click Send to continue.');
  await expect(aiMessage(page, 'planner')).toHaveCount(1);
  await expect(aiMessage(page, 'planner')).toContainText('📋 Step 1: Planning Complete');
  await expect(chat(page).locator('[data-kind="system"]', { hasText: '⚙️ Executing node: planner' })).toHaveCount(1);
  await expect(chat(page).locator('[data-kind="live"]')).toHaveCount(0);
  await expect(systemLine(page, 'warning')).toHaveCount(0);
  await expect(phase(page)).toHaveText('Paused');
  await expect(page.getByTestId('graph').locator('[data-node="travel_plan"]')).toHaveAttribute('data-status', 'next');
  expect(calls.filter((c) => JOIN.test(c))).toHaveLength(1);
});

test('a stream that breaks off and cannot be rejoined: the screen resyncs from the server', async ({ page }) => {
  await cutRunStreams(page);
  // Every join ends at once without an event, as a proxy that keeps cutting would.
  await page.route(isJoin, (route) => route.fulfill({ status: 200, contentType: 'text/event-stream', body: '' }));
  await page.goto('/');
  await messageBox(page).fill('Write about visiting Paris');
  await messageBox(page).press('Enter');
  await expect(systemLine(page, 'warning')).toContainText('The stream ended before the run paused or finished.');
  await expect(systemLine(page, 'warning')).toContainText('The screen now shows the thread as the server has it.');
  // What the stream never delivered, the server's state did.
  await expect(aiMessage(page, 'planner')).toContainText('📋 Step 1: Planning Complete');
  await expect(systemLine(page, 'paused')).toHaveText('⏸️ Paused — next: travel_plan. Click Send to continue.');
  await expect(phase(page)).toHaveText('Paused');
  await expect(page.getByTestId('graph').locator('[data-node="travel_plan"]')).toHaveAttribute('data-status', 'next');
});

test('reload mid-run: the screen rejoins the run, follows it live to its end, and shows every node once', async ({ page }) => {
  const TASK = 'Write about visiting Kyoto';
  const calls = apiCalls(page);
  await page.goto('/');
  await page.getByRole('checkbox', { name: /Pause after each step/ }).uncheck();
  await page.getByRole('combobox', { name: 'Max revisions' }).selectOption('1');
  await messageBox(page).fill(TASK);
  await messageBox(page).press('Enter');
  await expect(aiMessage(page, 'planner')).toBeVisible();

  await recordMostShown(page);
  await page.reload();
  await expect(chat(page)).toContainText('🔄 A run is going on the server: following it live.');
  await expect(phase(page)).toContainText('Running');
  await expect(threadStatus(page, TASK)).toHaveText('running');
  // Live, not caught up afterwards: text being written shows after the reload.
  await expect(chat(page).locator('[data-kind="live"]')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Stop' })).toBeVisible();

  await expect(systemLine(page, 'complete')).toHaveText('✅ Complete!', { timeout: 90_000 });
  await expect(phase(page)).toHaveText('Complete');
  const once = { planner: 1, travel_plan: 1, generate: 2, reflect: 1, research_critique: 1 };
  for (const [node, count] of Object.entries(once)) await expect(aiMessage(page, node), node).toHaveCount(count);
  expect(await mostShown(page), 'the most of each entry ever on screen at once').toEqual({ ...once, live: 1 });
  await expect(chat(page)).not.toContainText('will catch up');
  await expect(page.getByTestId('revision')).toHaveText('Draft 2 of 2');
  expect(calls.filter((c) => JOIN.test(c)).length).toBeGreaterThanOrEqual(1);
  // The list says what the top bar says.
  await expect(threadStatus(page, TASK)).toHaveText('ready');

  // Max revisions shows the thread's own, whatever was chosen last for another thread.
  const revisions = page.getByRole('combobox', { name: 'Max revisions' });
  await expect(revisions).toHaveValue('1');
  await page.getByRole('navigation', { name: 'Threads' }).getByRole('button', { name: '+ New thread' }).click();
  await expect(page.getByRole('main').getByRole('heading', { level: 1, name: 'New thread' })).toHaveText('New thread');
  await revisions.selectOption('3');
  await threadButton(page, TASK).click();
  await expect(aiMessage(page, 'planner')).toBeVisible();
  await expect(revisions).toHaveValue('1');
});

test('Stop cancels the step mid-node; Send redoes only that node; the list agrees with the top bar', async ({ page }) => {
  const TASK = 'Write about visiting Lisbon';
  const calls = apiCalls(page);
  await page.goto('/');
  await page.getByRole('checkbox', { name: /Pause after each step/ }).uncheck();
  await messageBox(page).fill(TASK);
  await page.getByRole('button', { name: 'Send' }).click();
  // Mid-node: the first draft is being written.
  await expect(page.getByTestId('live-generate')).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(chat(page)).toContainText('⏹️ Cancelling the step in progress…');

  await expect(systemLine(page, 'paused')).toHaveText(
    '⏹️ Cancelled generate mid-step; nothing of it was kept. Click Send to continue: generate is redone from the start.',
  );
  await expect(phase(page)).toHaveText('Paused');
  await expect(threadStatus(page, TASK)).toHaveText('paused');
  await expect(aiMessage(page, 'generate')).toHaveCount(0);
  await expect(chat(page).locator('[data-kind="live"]')).toHaveCount(0);
  await expect(page.getByTestId('graph').locator('[data-node="generate"]')).toHaveAttribute('data-status', 'next');
  await expect(page.getByRole('button', { name: 'Send' })).toBeEnabled();
  expect(calls.filter((c) => CANCEL.test(c))).toHaveLength(1);

  // The server agrees: paused before generate, with nothing of the cancelled draft kept.
  await page.reload();
  await expect(systemLine(page, 'paused')).toHaveText('⏸️ Paused — next: generate. Click Send to continue.');
  await expect(aiMessage(page, 'generate')).toHaveCount(0);
  await expect(threadStatus(page, TASK)).toHaveText('paused');

  // Send continues: generate runs again, once, and with pauses on the run stops after it.
  await page.getByRole('checkbox', { name: /Pause after each step/ }).check();
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(chat(page)).toContainText('▶️ Continuing with generate.');
  await expect(systemLine(page, 'paused').last()).toHaveText('⏸️ Paused — next: reflect. Click Send to continue.');
  await expect(aiMessage(page, 'generate')).toHaveCount(1);
  await expect(aiMessage(page, 'generate')).toContainText('✍️ Step 3: Draft 1 of');
  await expect(aiMessage(page, 'planner')).toHaveCount(1);
  await expect(aiMessage(page, 'travel_plan')).toHaveCount(1);
  await expect(phase(page)).toHaveText('Paused');
  await expect(threadStatus(page, TASK)).toHaveText('paused');
});
