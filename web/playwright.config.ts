import { defineConfig } from '@playwright/test';

// Real headless Chromium from Debian (/usr/bin/chromium; `make chromium` installs it) against
// the real local stack, which e2e/global-setup.ts starts on a free port. No browser download.
// Two projects: `app` (no sign-in, the global setup's stack) and `auth` (auth.spec.ts, which
// starts its own stack with sign-in on: a local Cognito pool with two demo users).
export const CHROMIUM = process.env.WAYFARER_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/playwright',
  globalSetup: './e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  projects: [
    { name: 'app', testIgnore: /auth\.spec\.ts$/ },
    { name: 'auth', testMatch: /auth\.spec\.ts$/ },
  ],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1360, height: 900 },
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    screenshot: 'only-on-failure',
    trace: 'off',
  },
});
