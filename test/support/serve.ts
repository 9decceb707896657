/**
 * test/support/serve — starts the real serve process (`out/main/serve.js`, built by `npm test`)
 * on a temporary app home, and can kill and restart it on the same address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SERVE_ENTRY = join(ROOT, 'out', 'main', 'serve.js');
export const CLI_ENTRY = join(ROOT, 'out', 'main', 'cli.js');

export function assertBuilt(): void {
  if (!existsSync(SERVE_ENTRY)) throw new Error(`${SERVE_ENTRY} is missing: run \`npm run build\` first (npm test does).`);
}

export function temporaryHome(prefix = 'esm-studio-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ServeHandle {
  url: string;
  port: number;
  token: string;
  home: string;
  process: ChildProcess;
  output: () => string;
}

/** Starts serve and resolves once it prints its address. */
export function startServe(home: string, fixed?: { port: number; token: string }): Promise<ServeHandle> {
  assertBuilt();
  // Serve reads paths only inside allowed folders: the tests install models from the fixtures and
  // import fine-tunes from temporary folders.
  const env: NodeJS.ProcessEnv = { ...process.env, ESM_STUDIO_HOME: home, ESM_STUDIO_ALLOW: [join(ROOT, 'test', 'fixtures'), tmpdir()].join(delimiter) };
  if (fixed) {
    env.ESM_STUDIO_PORT = String(fixed.port);
    env.ESM_STUDIO_TOKEN = fixed.token;
  }
  const child = spawn(process.execPath, [SERVE_ENTRY], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Open (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+))/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePromise({
          url: match[1]!,
          port: Number(match[2]),
          token: match[3]!,
          home,
          process: child,
          output: () => output,
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output}`));
    });
  });
}

export function stopServe(handle: ServeHandle, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (handle.process.exitCode !== null || handle.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    handle.process.once('exit', () => resolvePromise());
    handle.process.kill(signal);
  });
}
