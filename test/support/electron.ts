/**
 * test/support/electron — what the desktop smoke test needs before it can open the real window:
 * Electron's binary without downloading anything (ELECTRON_OVERRIDE_DIST_PATH, the unpacked
 * `node_modules/electron/dist`, or a download already in Electron's cache), a display (the
 * session's own, or a private Xvfb), and better-sqlite3 rebuilt for Electron's ABI
 * (scripts/electron-native.mjs). Each returns why not, in words, so the test can say why it skipped.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './serve';

export type Found<T> = { ok: true; value: T } | { ok: false; reason: string };

const EXECUTABLE: Record<string, string> = { linux: 'electron', win32: 'electron.exe', darwin: 'Electron.app/Contents/MacOS/Electron' };

function electronVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Electron's download cache (@electron/get): $electron_config_cache, else the platform's cache folder. */
function cacheFolder(): string {
  if (process.env.electron_config_cache) return process.env.electron_config_cache;
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'electron');
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA ?? homedir(), 'electron', 'Cache');
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'electron');
}

function cachedZip(version: string): boolean {
  const folder = cacheFolder();
  if (!existsSync(folder)) return false;
  const name = `electron-v${version}-${process.platform}-${process.arch}.zip`;
  return readdirSync(folder, { withFileTypes: true }).some((entry) => (entry.isDirectory() ? existsSync(join(folder, entry.name, name)) : entry.name === name));
}

/** Electron's executable, found without a network download. */
export function electronBinary(): Found<string> {
  const executable = EXECUTABLE[process.platform] ?? 'electron';
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const path = join(override, executable);
    return existsSync(path) ? { ok: true, value: path } : { ok: false, reason: `ELECTRON_OVERRIDE_DIST_PATH is ${override}, which has no ${executable}.` };
  }
  if (!existsSync(join(ROOT, 'node_modules', 'electron', 'package.json'))) return { ok: false, reason: 'the electron package is not installed (npm install).' };
  const version = electronVersion();
  const unpacked = join(ROOT, 'node_modules', 'electron', 'dist', executable);
  if (existsSync(unpacked)) return { ok: true, value: unpacked };
  if (!cachedZip(version)) {
    return { ok: false, reason: `Electron ${version}'s binary is not on this machine (it is downloaded on the first \`npm start\`, or set ELECTRON_OVERRIDE_DIST_PATH).` };
  }
  // A cached download: requiring the package unpacks it from the cache (no network needed).
  const result = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("electron"))'], { cwd: ROOT, encoding: 'utf8', timeout: 5 * 60_000 });
  const path = result.stdout?.trim();
  return result.status === 0 && path && existsSync(path) ? { ok: true, value: path } : { ok: false, reason: `Electron ${version}'s cached download could not be unpacked: ${result.stderr?.trim().slice(-300) ?? result.error?.message}` };
}

export interface Display {
  env: Record<string, string>;
  stop(): void;
}

/** The session's display, or a private Xvfb on a free display number (Linux). */
export async function display(): Promise<Found<Display>> {
  if (process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY) return { ok: true, value: { env: {}, stop: () => undefined } };
  const xvfb = ['/usr/bin/Xvfb', '/usr/local/bin/Xvfb'].find((path) => existsSync(path));
  if (!xvfb) return { ok: false, reason: 'there is no display and no Xvfb to make one (apt-get install xvfb).' };
  for (let number = 99; number < 120; number++) {
    if (existsSync(`/tmp/.X11-unix/X${number}`) || existsSync(`/tmp/.X${number}-lock`)) continue;
    const child: ChildProcess = spawn(xvfb, [`:${number}`, '-screen', '0', '1360x1000x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    // Xvfb is ready when its socket appears; it exits at once if the number was taken after all.
    for (let wait = 0; wait < 100 && child.exitCode === null && !existsSync(`/tmp/.X11-unix/X${number}`); wait++) await new Promise((r) => setTimeout(r, 100));
    if (child.exitCode === null && existsSync(`/tmp/.X11-unix/X${number}`)) return { ok: true, value: { env: { DISPLAY: `:${number}` }, stop: () => child.kill() } };
    child.kill();
  }
  return { ok: false, reason: 'Xvfb did not start on any display from :99 to :119.' };
}

/** better-sqlite3 built for Electron's ABI in .electron-native/ (what `npm start` does first). */
export function electronNativeModules(): Found<null> {
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'electron-native.mjs'), '--require'], { cwd: ROOT, stdio: 'pipe', timeout: 10 * 60_000 });
    return { ok: true, value: null };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    return { ok: false, reason: `better-sqlite3 could not be rebuilt for Electron: ${stderr.trim().slice(-400)}` };
  }
}
