// Starts the real local stack for the e2e suite: dynalite + the API with the offline model,
// serving web/dist at /, on a free port with a fresh data directory; stops it afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CHROMIUM } from '../playwright.config';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(WEB, '..');
/** Milliseconds between the offline model's chunks: slow enough to watch text grow. */
const PACE_MS = process.env.WAYFARER_E2E_PACE_MS ?? '30';
const READY_TIMEOUT_MS = 120_000;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

function findUv(): string {
  const onPath = spawnSync('sh', ['-c', 'command -v uv'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const local = join(homedir(), '.local/bin/uv');
  if (existsSync(local)) return local;
  throw new Error('uv not found: run `make setup` in the repository root first.');
}

async function waitForHealth(url: string, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new Error(why);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`The stack did not answer ${url}/health within ${READY_TIMEOUT_MS / 1000} s.`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run \`make chromium\` (apt-get install chromium).`);
  }
  if (process.env.WAYFARER_E2E_URL) return async () => undefined; // an already running stack

  if (!existsSync(join(WEB, 'dist/index.html'))) {
    throw new Error('web/dist is missing: run `npm run build` before `npm run e2e`.');
  }
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'wayfarer-e2e-'));
  const logDir = join(WEB, 'test-results');
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, 'devstack.log'));
  const args = [
    'run', '--frozen', '--project', REPO,
    'python', '-m', 'wayfarer.devstack',
    '--port', String(port),
    '--data-dir', dataDir,
    '--pace-ms', PACE_MS,
    '--web-dist', join(WEB, 'dist'),
  ];
  // Its own process group, so teardown reaches uv, python and dynalite together.
  const stack = spawn(findUv(), args, {
    cwd: REPO,
    env: { ...process.env, PYTHONPATH: join(REPO, 'functions/agent') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  stack.stdout.pipe(log);
  stack.stderr.pipe(log);
  let exitNote: string | null = null;
  const exitedPromise = new Promise<void>((done) =>
    stack.on('exit', (code, sig) => {
      exitNote = `The stack exited early (code ${code}, signal ${sig}); see web/test-results/devstack.log.`;
      done();
    }),
  );

  const stop = async () => {
    if (stack.exitCode === null && stack.signalCode === null && stack.pid) {
      try {
        process.kill(-stack.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const killed = await Promise.race([exitedPromise.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]);
      if (!killed) {
        try {
          process.kill(-stack.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, () => exitNote);
  } catch (error) {
    await stop();
    throw error;
  }
  process.env.WAYFARER_E2E_URL = url;
  return stop;
}
