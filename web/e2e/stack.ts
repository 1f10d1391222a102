// Starts the real local stack (python -m wayfarer.devstack: dynalite, s3rver, the API with the
// offline model serving web/dist at /, and with --auth cognito a moto Cognito pool with demo
// users) on a free port with a fresh data directory; stops it with its whole process group.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(WEB, '..');
/** Milliseconds between the offline model's chunks: slow enough to watch text grow. */
const PACE_MS = process.env.WAYFARER_E2E_PACE_MS ?? '30';
const READY_TIMEOUT_MS = 120_000;

export interface StackOptions {
  /** cognito: sign-in on, against a local Cognito pool with demo users. */
  auth?: 'none' | 'cognito';
  /** The stack's output goes to web/test-results/<log>. */
  log: string;
}

export interface Stack {
  url: string;
  /** What the stack has printed so far (its sign-in help names the demo users). */
  output: () => string;
  stop: () => Promise<void>;
}

export interface DemoUser {
  email: string;
  password: string;
}

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

async function waitUntil(ready: () => Promise<boolean>, what: string, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new Error(why);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`The stack did not get ready within ${READY_TIMEOUT_MS / 1000} s: ${what}.`);
}

/** The demo users the stack's sign-in help lists ("    email  /  password"). */
export function demoUsers(output: string): DemoUser[] {
  return [...output.matchAll(/^ {4}(\S+@\S+) {2}\/ {2}(\S+)$/gm)].map((m) => ({ email: m[1]!, password: m[2]! }));
}

export async function startStack({ auth = 'none', log }: StackOptions): Promise<Stack> {
  if (!existsSync(join(WEB, 'dist/index.html'))) {
    throw new Error('web/dist is missing: run `npm run build` before `npm run e2e`.');
  }
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'wayfarer-e2e-'));
  const logDir = join(WEB, 'test-results');
  mkdirSync(logDir, { recursive: true });
  const logFile = createWriteStream(join(logDir, log));
  const args = [
    'run', '--frozen', '--project', REPO,
    'python', '-m', 'wayfarer.devstack',
    '--port', String(port),
    '--data-dir', dataDir,
    '--pace-ms', PACE_MS,
    '--web-dist', join(WEB, 'dist'),
    ...(auth === 'none' ? [] : ['--auth', auth]),
  ];
  // Its own process group, so stopping reaches uv, python and the servers together.
  const stack = spawn(findUv(), args, {
    cwd: REPO,
    env: { ...process.env, PYTHONPATH: join(REPO, 'functions/agent') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  stack.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  stack.stdout.pipe(logFile);
  stack.stderr.pipe(logFile);
  let exitNote: string | null = null;
  const exited = new Promise<void>((done) =>
    stack.on('exit', (code, sig) => {
      exitNote = `The stack exited early (code ${code}, signal ${sig}); see web/test-results/${log}.`;
      done();
    }),
  );

  const signal = (name: NodeJS.Signals) => {
    try {
      if (stack.pid) process.kill(-stack.pid, name);
    } catch {
      // already gone
    }
  };
  const stop = async () => {
    if (stack.exitCode === null && stack.signalCode === null) {
      signal('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]);
      if (!stopped) signal('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(async () => (await fetch(`${url}/health`)).ok, `${url}/health`, () => exitNote);
    // The sign-in help comes right after the app answers.
    if (auth !== 'none') await waitUntil(async () => demoUsers(output).length >= 2, 'two demo users printed', () => exitNote);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, output: () => output, stop };
}
