/**
 * Mol* (a few MB) is loaded only when the Structure page shows a structure: checked on the built
 * renderer (out/renderer, from `npx electron-vite build`). No file reached from the page's entry
 * script through static imports holds Mol*'s code, and the dynamic imports do reach the 3D viewer and
 * the BinaryCIF decoder (so the check can fail). Mol* is recognised by strings its minified code keeps.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const OUT = resolve('out/renderer');
/** A Mol* plugin setting's name (the 3D viewer) and the BinaryCIF decoder's version message. */
const MARKERS = { viewer: 'plugin-config.prefer-webgl1', binaryCif: 'Unsupported format version. Current' };

const STATIC = /(?:^|[;}\s])import\s*(?:[\w$*{}\s,]*?from\s*)?["'`](\.{1,2}\/[^"'`]+)["'`]/g;
const DYNAMIC = /import\(\s*["'`](\.{1,2}\/[^"'`]+)["'`]\s*\)/g;

function imports(file: string, pattern: RegExp): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(pattern)].map((m) => resolve(dirname(file), m[1]!));
}

/** The entry script and every file it reaches through static imports. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set([entry]);
  const queue = [entry];
  while (queue.length > 0) {
    for (const target of imports(queue.shift()!, STATIC)) {
      if (seen.has(target)) continue;
      expect(existsSync(target), `${target} is imported but not built`).toBe(true);
      seen.add(target);
      queue.push(target);
    }
  }
  return seen;
}

describe('the renderer bundle', () => {
  const html = join(OUT, 'index.html');
  it('is built', () => {
    expect(existsSync(html), 'out/renderer/index.html is missing: run npx electron-vite build').toBe(true);
  });

  it('loads Mol* only through dynamic imports (the Structure page), not with the app', () => {
    const entry = join(OUT, /<script[^>]+src="\.\/([^"]+)"/.exec(readFileSync(html, 'utf8'))![1]!);
    const eager = staticClosure(entry);
    for (const file of eager) {
      const text = readFileSync(file, 'utf8');
      for (const marker of Object.values(MARKERS)) expect(text.includes(marker), `${file} holds Mol* code (${marker})`).toBe(false);
    }
    const lazy = [...eager].flatMap((file) => imports(file, DYNAMIC));
    const viewer = lazy.find((file) => readFileSync(file, 'utf8').includes(MARKERS.viewer));
    expect(viewer).toBeDefined();
    expect(lazy.some((file) => readFileSync(file, 'utf8').includes(MARKERS.binaryCif))).toBe(true);
    // The static-import pattern does see minified imports: the viewer's chunk imports the shared ones.
    expect(imports(viewer!, STATIC).length).toBeGreaterThan(0);
  });
});
