import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Page } from '@playwright/test';

import { aiMessage, apiCalls, chat, expect, messageBox, phase, systemLine, test, threadButton } from './fixtures';

// Runs that break off, are joined after a reload, or are stopped: runs.spec.ts.
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
mkdirSync(SHOTS, { recursive: true });

const TASK = 'Write about visiting Paris';
const MY_PLAN = 'My own plan: start in the Marais, eat well, then walk the Seine at dusk.';

interface Moment {
  liveLength: number | null;
  step1: boolean;
  paused: boolean;
  phase: string;
}

/** Records, at every DOM change, what the screen shows: an observer inside the page, no clock. */
async function recordTimeline(page: Page): Promise<void> {
  await page.evaluate(() => {
    const moments: Moment[] = [];
    (window as unknown as { __timeline: Moment[] }).__timeline = moments;
    new MutationObserver(() => {
      const live = document.querySelector('[data-testid="live-planner"] .msg-body');
      moments.push({
        liveLength: live ? (live.textContent ?? '').length : null,
        step1: !!document.querySelector('[data-kind="ai"][data-node="planner"]'),
        paused: !!document.querySelector('[data-kind="system"][data-tone="paused"]'),
        phase: document.querySelector('[data-testid="phase"]')?.textContent ?? '',
      });
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

function timeline(page: Page): Promise<Moment[]> {
  return page.evaluate(() => (window as unknown as { __timeline: Moment[] }).__timeline);
}

test('the seed flow, streamed: pause, steer, edit the plan, complete, reload', async ({ page }) => {
  const calls = apiCalls(page);
  await page.goto('/');
  await expect(page.getByText('model: offline · research: offline')).toBeVisible();
  await expect(page.getByRole('checkbox', { name: /Pause after each step/ })).toBeChecked();
  await page.getByRole('combobox', { name: 'Max revisions' }).selectOption('1');

  await recordTimeline(page);
  await messageBox(page).fill(TASK);
  await messageBox(page).press('Enter');

  // The human message shows at once, the thread is created and named in the URL and the list.
  await expect(chat(page).locator('[data-kind="human"]').first()).toHaveText(new RegExp(TASK));
  await expect(page).toHaveURL(/#\/t\/[A-Za-z0-9_-]+$/);
  await expect(threadButton(page, TASK)).toBeVisible();

  // Step 1 arrives while the run is going: its text grew token by token first, then its message.
  await expect(aiMessage(page, 'planner')).toContainText('📋 Step 1: Planning Complete');
  await expect(systemLine(page, 'paused')).toHaveText('⏸️ Paused — next: travel_plan. Click Send to continue.');
  const moments = await timeline(page);
  const liveLengths = moments.map((m) => m.liveLength).filter((n): n is number => n !== null && n > 0);
  expect(new Set(liveLengths).size, 'distinct lengths of the planner’s streamed text').toBeGreaterThan(3);
  expect(liveLengths).toEqual([...liveLengths].sort((a, b) => a - b));
  const firstStep1 = moments.findIndex((m) => m.step1);
  expect(moments.slice(0, firstStep1).some((m) => m.liveLength !== null && m.phase.startsWith('Running'))).toBe(true);
  expect(moments[firstStep1 - 1]?.paused).toBe(false);
  // …and the chat reads in the seed's order.
  const lines = await chat(page).locator('> li').allInnerTexts();
  const executing = lines.findIndex((l) => l.includes('⚙️ Executing node: planner'));
  const step1 = lines.findIndex((l) => l.includes('📋 Step 1: Planning Complete'));
  const paused = lines.findIndex((l) => l.includes('⏸️ Paused'));
  expect(executing).toBeGreaterThan(0);
  expect(step1).toBeGreaterThan(executing);
  expect(paused).toBeGreaterThan(step1);

  // The paused screen: graph marks planner done and travel_plan next; the plan is in its panel.
  await expect(phase(page)).toHaveText('Paused');
  await expect(page).toHaveTitle('Paused — Wayfarer');
  const graph = page.getByTestId('graph');
  await expect(graph.locator('[data-node="planner"]')).toHaveAttribute('data-status', 'done');
  await expect(graph.locator('[data-node="travel_plan"]')).toHaveAttribute('data-status', 'next');
  await expect(graph.locator('[data-node="generate"]')).toHaveAttribute('data-status', 'idle');
  await expect(page.getByTestId('graph-caption')).toHaveText('Paused — next: travel_plan');
  await expect(page.getByTestId('panel-plan')).toContainText('Working title: Paris, Unhurried');
  await expect(page.getByTestId('announcer')).toContainText('📋 Step 1: Planning Complete');
  await expect(page.getByRole('button', { name: 'Send' })).toBeEnabled();
  await page.screenshot({ path: join(SHOTS, 'paused.png'), fullPage: true });

  // Click Send with feedback: it goes to the next node (travel_plan searches for food first).
  await messageBox(page).fill('focus on food');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(chat(page).locator('[data-kind="human"]').nth(1)).toContainText('feedback for travel_plan');
  await expect(aiMessage(page, 'travel_plan')).toContainText('🔍 Step 2: Research Complete');
  await expect(aiMessage(page, 'travel_plan')).toContainText(/Queries:\s*Paris food/);
  await expect(systemLine(page, 'paused').last()).toHaveText('⏸️ Paused — next: generate. Click Send to continue.');
  // Research panel: the queries, each with its sources as links.
  const research = page.getByTestId('panel-research');
  await expect(research.getByRole('heading', { name: /Paris food/ })).toBeVisible();
  await expect(research.getByRole('link').first()).toHaveAttribute('href', /^https:\/\//);

  // Edit the plan while paused; Send saves it through the state API before the run resumes.
  await page.getByRole('tab', { name: 'Plan' }).click();
  await page.getByRole('button', { name: 'Edit plan' }).click();
  await page.getByRole('textbox', { name: 'Edit the plan' }).fill(MY_PLAN);
  await expect(page.getByRole('tab', { name: /Plan/ })).toContainText('•');
  // The rest runs without pauses.
  await page.getByRole('checkbox', { name: /Pause after each step/ }).uncheck();
  const callsBefore = calls.length;
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(chat(page)).toContainText('✏️ Saved your edit of the plan.');

  // Step 3 shows while the run still goes on (reflect and more follow without a pause).
  await expect(aiMessage(page, 'generate').first()).toContainText('✍️ Step 3: Draft 1 of 2 Complete');
  await expect(phase(page)).toContainText('Running');
  await expect(systemLine(page, 'complete')).toHaveText('✅ Complete!', { timeout: 90_000 });
  const resumeCalls = calls.slice(callsBefore);
  expect(resumeCalls.filter((c) => c.startsWith('POST')).slice(0, 2)).toEqual([
    expect.stringMatching(/^POST \/threads\/[^/]+\/state$/),
    'POST /runs/stream',
  ]);

  // The completed screen.
  await expect(phase(page)).toHaveText('Complete');
  await expect(aiMessage(page, 'generate')).toHaveCount(2);
  await expect(aiMessage(page, 'reflect')).toContainText('🧐 Step 4');
  await expect(graph.locator('[data-node="generate"]')).toHaveAttribute('data-status', 'done');
  await expect(graph.locator('[data-node="generate"] .graph-count')).toHaveText('✓2');
  await expect(graph.locator('[data-node="end"]')).toHaveClass(/reached/);
  await expect(page.getByTestId('revision')).toHaveText('Draft 2 of 2');
  await page.getByRole('tab', { name: 'Draft' }).click();
  await expect(page.getByTestId('panel-draft').getByRole('heading', { level: 1 })).toHaveText('Paris, Unhurried');
  await expect(page.getByTestId('panel-draft').getByRole('link').first()).toHaveAttribute('target', '_blank');
  await page.screenshot({ path: join(SHOTS, 'complete.png'), fullPage: true });

  // Reload: the thread, its messages, its draft and the edited plan come back from the server.
  const url = page.url();
  await page.reload();
  expect(page.url()).toBe(url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(TASK);
  await expect(threadButton(page, TASK)).toHaveAttribute('aria-current', 'page');
  await expect(aiMessage(page, 'planner')).toContainText('📋 Step 1: Planning Complete');
  await expect(aiMessage(page, 'travel_plan')).toContainText('🔍 Step 2: Research Complete');
  await expect(aiMessage(page, 'generate')).toHaveCount(2);
  await expect(chat(page).locator('[data-kind="human"]').nth(1)).toContainText('focus on food');
  await expect(systemLine(page, 'complete')).toHaveText('✅ Complete!');
  await expect(phase(page)).toHaveText('Complete');
  await page.getByRole('tab', { name: 'Draft' }).click();
  await expect(page.getByTestId('panel-draft').getByRole('heading', { level: 1 })).toHaveText('Paris, Unhurried');
  await page.getByRole('tab', { name: 'Plan' }).click();
  await expect(page.getByTestId('panel-plan')).toHaveText(MY_PLAN);
});

test('keyboard only: focus order, Enter sends, tabs move with arrow keys', async ({ page }) => {
  await page.goto('/');
  await expect(messageBox(page)).toBeVisible();
  const order: string[] = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    order.push(
      await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        const label = (el as HTMLInputElement | null)?.labels?.[0]?.textContent;
        return el?.getAttribute('aria-label') || label?.trim() || el?.textContent?.trim() || el?.tagName || '';
      }),
    );
  }
  const at = (name: string) => order.indexOf(name);
  const expected = ['Skip to the message box', '+ New thread', 'Conversation', 'Message', 'Pause after each step (human in the loop)', 'Max revisions12345', 'Plan'];
  expect(expected.map(at), `focus order: ${JSON.stringify(order)}`).toEqual([...expected.map(at)].sort((a, b) => a - b));
  expect(expected.map(at).every((i) => i >= 0), `focus order: ${JSON.stringify(order)}`).toBe(true);

  // Skip link → message box; type and send with Enter alone.
  await page.goto('/');
  await expect(messageBox(page)).toBeVisible();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(messageBox(page)).toBeFocused();
  await page.keyboard.type('Write about visiting Kyoto');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('in spring');
  await expect(messageBox(page)).toHaveValue('Write about visiting Kyoto\nin spring');
  await page.keyboard.press('Enter');
  await expect(chat(page).locator('[data-kind="human"]')).toHaveText(/Write about visiting Kyoto\s+in spring/);
  await expect(systemLine(page, 'paused')).toBeVisible();
  await expect(messageBox(page)).toBeFocused();

  // Tabs: focus the selected one, arrows move the selection.
  await page.getByRole('tab', { name: 'Plan' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Research' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Research' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('End');
  await expect(page.getByRole('tab', { name: 'Critique' })).toHaveAttribute('aria-selected', 'true');
});

test('threads: create, switch, delete', async ({ page }) => {
  await page.goto('/');
  const threads = page.getByRole('navigation', { name: 'Threads' });

  await messageBox(page).fill('Write about visiting Oslo');
  await messageBox(page).press('Enter');
  await expect(systemLine(page, 'paused')).toBeVisible();
  const oslo = page.url();

  await threads.getByRole('button', { name: '+ New thread' }).click();
  await expect(page).not.toHaveURL(oslo);
  await expect(chat(page)).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New thread');
  await messageBox(page).fill('Write about visiting Porto');
  await messageBox(page).press('Enter');
  await expect(aiMessage(page, 'planner')).toContainText('Porto');
  await expect(systemLine(page, 'paused')).toBeVisible();

  // Switch back: Oslo's own conversation, still paused.
  await threadButton(page, 'Write about visiting Oslo').click();
  await expect(page).toHaveURL(oslo);
  await expect(aiMessage(page, 'planner')).toContainText('Oslo');
  await expect(chat(page)).not.toContainText('Porto');
  await expect(phase(page)).toHaveText('Paused');

  // Delete Porto (asks first), it leaves the list and the server.
  await threads.getByRole('button', { name: 'Delete thread Write about visiting Porto' }).click();
  await expect(threads.getByRole('group', { name: 'Delete Write about visiting Porto?' })).toBeVisible();
  await threads.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(threads.getByRole('group', { name: /^Delete/ })).toHaveCount(0);
  await expect(threads.getByRole('listitem')).toHaveCount(1);
  await expect(threadButton(page, 'Write about visiting Oslo')).toBeVisible();
  await page.reload();
  await expect(threadButton(page, 'Write about visiting Oslo')).toBeVisible();
  await expect(threadButton(page, 'Write about visiting Porto')).toHaveCount(0);
});

test('usable at 360 px wide', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 780 });
  await page.goto('/');
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(await overflow()).toBeLessThanOrEqual(0);
  await messageBox(page).fill('Write about visiting Marrakesh');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(systemLine(page, 'paused')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Send' })).toBeInViewport();
  expect(await overflow()).toBeLessThanOrEqual(0);
  // The thread list folds away behind a button on a narrow screen.
  const toggle = page.getByRole('button', { name: 'Threads' });
  await expect(page.getByRole('navigation', { name: 'Threads' })).toBeHidden();
  await toggle.click();
  await expect(threadButton(page, 'Write about visiting Marrakesh')).toBeVisible();
  await page.getByTestId('graph').scrollIntoViewIfNeeded();
  expect(await overflow()).toBeLessThanOrEqual(0);
  await page.screenshot({ path: join(SHOTS, 'mobile-paused.png'), fullPage: true });
});
