import { expect, test as base, type Page } from '@playwright/test';

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
