// Builds the useStream test page on its own (web/test-results/langgraph-sdk-page), so it never
// enters web/dist: e2e/langgraph-sdk-react.spec.ts builds it and serves it on the stack's origin.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
export const PAGE_BASE = '/langgraph-sdk-page/';
export const PAGE_OUT = resolve(here, '../../test-results/langgraph-sdk-page');

export default defineConfig({
  root: here,
  base: PAGE_BASE,
  plugins: [react()],
  logLevel: 'warn',
  // One chunk with React and the SDK: its size does not matter here.
  build: { outDir: PAGE_OUT, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
