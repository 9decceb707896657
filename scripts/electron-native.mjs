#!/usr/bin/env node
// Rebuilds better-sqlite3 for Electron's ABI into .electron-native/, leaving node_modules' copy
// (built for Node: serve mode, the CLI and the tests use it) untouched. The Electron main process
// loads the addon from there (src-main/electron/main.ts). onnxruntime-node uses Node-API and
// needs no rebuild. Where Electron's binary cannot be had (offline, CI) this says so.
//
//   node scripts/electron-native.mjs            rebuild if needed, skip cleanly without Electron
//   node scripts/electron-native.mjs --require  without Electron's binary: say so and exit 1
//                                               (npm start, npm run dev, packaging: nothing to open)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '..');
const target = join(root, '.electron-native');
const stampFile = join(target, 'stamp.json');
const requireElectron = process.argv.includes('--require');

function electronBinary() {
  // Electron >= 42 downloads its binary on first use; requiring it from Node resolves (or fetches) it.
  try {
    return execFileSync(process.execPath, ['-e', 'process.stdout.write(require("electron"))'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 15 * 60 * 1000,
    });
  } catch {
    return null;
  }
}

const binary = electronBinary();
if (!binary || !existsSync(binary)) {
  if (requireElectron) {
    console.error(
      "ESM Studio's window needs Electron's binary, which is downloaded the first time you start it, and the\n" +
        'download did not succeed (is this computer offline?). Connect to the internet and run the command again,\n' +
        'or use `npm run serve` to run ESM Studio in your browser without Electron.',
    );
    process.exit(1);
  }
  console.warn(
    "Electron's binary is not available (it is downloaded on first start and this machine may be offline).\n" +
      'Skipping the rebuild of native modules for Electron. `npm run serve` runs ESM Studio in a browser without it.',
  );
  process.exit(0);
}

const electronVersion = require('electron/package.json').version;
const sqliteVersion = require('better-sqlite3/package.json').version;
const stamp = JSON.stringify({ electronVersion, sqliteVersion });
if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) process.exit(0);

console.log(`Building better-sqlite3 ${sqliteVersion} for Electron ${electronVersion} into .electron-native/ …`);
mkdirSync(target, { recursive: true });
writeFileSync(
  join(target, 'package.json'),
  JSON.stringify({ name: 'esm-studio-electron-native', private: true, dependencies: { 'better-sqlite3': sqliteVersion } }),
);
execFileSync('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `better-sqlite3@${sqliteVersion}`], {
  cwd: target,
  stdio: 'inherit',
});
const { rebuild } = await import('@electron/rebuild');
await rebuild({ buildPath: target, electronVersion, onlyModules: ['better-sqlite3'], force: true });
writeFileSync(stampFile, stamp);
console.log('Native modules are ready for Electron.');
