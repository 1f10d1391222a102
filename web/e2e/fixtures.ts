import { expect, test as base, type APIRequestContext, type Page, type Request } from '@playwright/test';

import type { Thread, ThreadPage } from '../src/api/types';

interface Fixtures {
  consoleErrors: string[];
  /** Console errors a test means to cause (a wrong password's 400): these are allowed. */
  expectedConsoleErrors: RegExp | null;
  /** Each test starts with no threads on the stack (when global-setup started it). */
  emptyThreadList: void;
}

/** Deletes every thread GET /threads lists, waiting out runs that still hold one (409). */
async function deleteAllThreads(request: APIRequestContext, baseURL: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const page = (await (await request.get(`${baseURL}/threads?limit=100`)).json()) as ThreadPage;
    if (!page.threads.length) return;
    const answers = await Promise.all(
      page.threads.map((t: Thread) => request.delete(`${baseURL}/threads/${encodeURIComponent(t.thread_id)}`)),
    );
    const busy = answers.filter((a) => a.status() === 409).length;
    if (busy && Date.now() > deadline) throw new Error(`${busy} thread(s) stayed busy for a minute: cannot start clean.`);
    if (busy) await new Promise((r) => setTimeout(r, 500));
  }
}

/** Every test runs against the stack global-setup started, and fails on any console error. */
export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads fixture deps from this pattern
  baseURL: async ({}, use) => {
    const url = process.env.WAYFARER_E2E_URL;
    if (!url) throw new Error('WAYFARER_E2E_URL is not set: global-setup did not start the stack.');
    await use(url);
  },
  expectedConsoleErrors: [null, { option: true }],
  // The list is the server's (GET /threads), shared by every test of the run: start each from
  // none, as each browser context starts from nothing.
  emptyThreadList: [
    async ({ baseURL, request }, use) => {
      if (process.env.WAYFARER_E2E_OWN_STACK === '1' && baseURL) await deleteAllThreads(request, baseURL);
      await use();
    },
    { auto: true },
  ],
  consoleErrors: [
    async ({ page, expectedConsoleErrors }, use) => {
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
      // Chromium logs failed responses without their URL; name them here.
      page.on('response', (response) => {
        if (response.status() >= 400) errors.push(`HTTP ${response.status()} ${response.request().method()} ${response.url()}`);
      });
      await use(errors);
      const unexpected = errors.filter((error) => !expectedConsoleErrors?.test(error));
      expect(unexpected, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export function messageBox(page: Page) {
  return page.getByRole('textbox', { name: 'Message' });
}

export function chat(page: Page) {
  return page.getByTestId('chat');
}

export function systemLine(page: Page, tone: string) {
  return chat(page).locator(`[data-kind="system"][data-tone="${tone}"]`);
}

export function aiMessage(page: Page, node: string) {
  return chat(page).locator(`[data-kind="ai"][data-node="${node}"]`);
}

export function phase(page: Page) {
  return page.getByTestId('phase');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The button that opens a thread in the list (its name is the title, then the status). */
export function threadButton(page: Page, title: string) {
  return page.getByRole('navigation', { name: 'Threads' }).getByRole('button', { name: new RegExp(`^${escapeRegExp(title)}`) });
}

/** The status the thread list shows for a thread ("running", "paused", "ready", "failed"). */
export function threadStatus(page: Page, title: string) {
  return threadButton(page, title).locator('.thread-status');
}

/** "METHOD /path" of every API request the page makes from now on (query strings left out). */
export function apiCalls(page: Page): string[] {
  const calls: string[] = [];
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/threads') || url.pathname.startsWith('/runs')) calls.push(`${request.method()} ${url.pathname}`);
  });
  return calls;
}
