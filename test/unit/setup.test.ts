/**
 * The README's set-up holds: `engines` asks for at least the Node version that the pinned
 * Electron's tooling requires, onnxruntime's CUDA download is skipped without a `.npmrc` key npm
 * does not know (npm warned "Unknown project config" on every call), and `npm start` without Electron's binary ends with the clear message
 * and exit code 1 instead of going on to `electron .` and a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/serve';

const packageJson = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { engines?: { node?: string }; scripts: Record<string, string>; allowScripts?: Record<string, boolean> };

/** The lowest version a range such as ">= 22.12.0" or "^22.13.0 || >=24" allows, as [major, minor, patch]. */
function lowest(range: string): number[] {
  const versions = [...range.matchAll(/(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)]);
  return versions.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!)[0]!;
}

const atLeast = (a: number[], b: number[]): boolean => a[0]! !== b[0]! ? a[0]! > b[0]! : a[1]! !== b[1]! ? a[1]! > b[1]! : a[2]! >= b[2]!;

describe('set-up', () => {
  it('engines asks for at least what Electron, @electron/rebuild and node-abi require', () => {
    const ours = lowest(packageJson(ROOT).engines!.node!);
    for (const dep of ['electron', '@electron/rebuild', 'node-abi']) {
      const theirs = packageJson(join(ROOT, 'node_modules', dep)).engines?.node;
      expect(theirs, dep).toBeDefined();
      expect(atLeast(ours, lowest(theirs!)), `${dep} needs node ${theirs}`).toBe(true);
    }
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`Node.js](https://nodejs.org) ${ours[0]}.${ours[1]} or newer`);
  });

  it('skips onnxruntime\'s CUDA download in ways npm accepts: allowScripts (npm 11), the environment variable (npm 10), no unknown .npmrc key', () => {
    expect(packageJson(ROOT).allowScripts?.['onnxruntime-node']).toBe(false);
    expect(packageJson(ROOT).allowScripts?.['better-sqlite3']).toBe(true);
    const npmrc = join(ROOT, '.npmrc');
    const keys = existsSync(npmrc) ? readFileSync(npmrc, 'utf8').split('\n').filter((l) => /^\s*[^#;\s]/.test(l)).map((l) => l.split('=')[0]!.trim()) : [];
    expect(keys).not.toContain('onnxruntime-node-install');
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^export ONNXRUNTIME_NODE_INSTALL=skip$/m);
  });

  it('npm start and npm run dev stop with the clear message and exit 1 when Electron\'s binary is missing', () => {
    const scripts = packageJson(ROOT).scripts;
    expect(scripts.start).toMatch(/^node scripts\/electron-native\.mjs --require && /);
    expect(scripts.dev).toMatch(/^node scripts\/electron-native\.mjs --require && /);
    // Electron's own override of where its binary is: a folder without one, so nothing is downloaded.
    const env = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: join(ROOT, 'test', 'no-electron-here') };
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'electron-native.mjs'), '--require'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("ESM Studio's window needs Electron's binary");
    expect(run.stderr).toContain('npm run serve');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    const lenient = spawnSync(process.execPath, [join(ROOT, 'scripts', 'electron-native.mjs')], { cwd: ROOT, env, encoding: 'utf8' });
    expect(lenient.status).toBe(0);
  });
});
