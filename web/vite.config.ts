/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API to the local service (make dev) unless WAYFARER_API says otherwise.
const api = process.env.WAYFARER_API ?? 'http://127.0.0.1:2024';
const proxied = { target: api, changeOrigin: false };

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { '/threads': proxied, '/runs': proxied, '/health': proxied },
  },
  build: {
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
