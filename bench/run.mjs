#!/usr/bin/env node
// npm run bench — prints speed figures; later issues add their own scripts to SUITES.
// Each suite is a script in bench/ that prints its own lines of figures.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SUITES = ['import.mjs'];
const only = process.argv.slice(2);
for (const suite of SUITES.filter((s) => only.length === 0 || only.some((o) => s.startsWith(o)))) {
  console.log(`## ${suite}`);
  const result = spawnSync(process.execPath, [join(import.meta.dirname, suite)], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
