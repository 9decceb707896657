#!/usr/bin/env node
// The `esm-studio` command: runs the built CLI (built by `npm install` via the prepare script,
// or by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('ESM Studio is not built yet: run `npm run build` in its folder first.');
  process.exit(1);
}
await import(cli);
