import { expect, test as base, type Page, type Request } from '@playwright/test';

/** Every test runs against the stack global-setup started, and fails on any console error. */
export const test = base.extend<{ consoleErrors: string[] }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads fixture deps from this pattern
  baseURL: async ({}, use) => {
    const url = process.env.WAYFARER_E2E_URL;
    if (!url) throw new Error('WAYFARER_E2E_URL is not set: global-setup did not start the stack.');
    await use(url);
  },
  consoleErrors: [
    async ({ page }, use) => {
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
      expect(errors, 'console errors').toEqual([]);
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
