/**
 * The Electron main process and serve mode never load onnxruntime-node: models run only in the
 * compute process (and the CLI), so the app starts fast, and a broken or missing native runtime
 * cannot take the window or the server down with it. Checked on the built bundle (out/main, from
 * `npx electron-vite build`, which `npm test` runs first): every file reached from main.js and
 * serve.js through static imports, re-exports, dynamic import() and require() is read, and none
 * may import onnxruntime-node. The compute entry must reach it, so the check can fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const OUT = resolve('out/main');
const RUNTIME = 'onnxruntime-node';

/** Every module specifier a bundle file names: static, re-export, dynamic and require(). */
function specifiers(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((ref) => ref.fileName);
}

/**
 * The chain of bundle files from `entry` to each file that imports `pkg` (breadth first, so each
 * chain is a shortest one); empty when no reached file imports it. Also returns what was reached.
 */
function chainsTo(entry: string, pkg: string): { chains: string[][]; reached: string[] } {
  const start = join(OUT, entry);
  const parent = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  const chains: string[][] = [];
  const chainOf = (file: string): string[] => {
    const chain: string[] = [];
    for (let at: string | null | undefined = file; at; at = parent.get(at)) chain.unshift(relative(OUT, at));
    return chain;
  };
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const specifier of specifiers(file)) {
      if (specifier === pkg || specifier.startsWith(`${pkg}/`)) chains.push([...chainOf(file), specifier]);
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      if (parent.has(target)) continue;
      expect(existsSync(target), `${relative(OUT, file)} imports ${specifier}, which is not in out/main`).toBe(true);
      parent.set(target, file);
      queue.push(target);
    }
  }
  return { chains, reached: [...parent.keys()].map((file) => relative(OUT, file)) };
}

describe('bundles', () => {
  it('out/main is built', () => {
    for (const entry of ['main.js', 'serve.js', 'compute.js']) {
      expect(existsSync(join(OUT, entry)), `out/main/${entry} is missing: run npx electron-vite build`).toBe(true);
    }
  });

  it.each(['main.js', 'serve.js'])('%s does not load onnxruntime-node', (entry) => {
    const { chains, reached } = chainsTo(entry, RUNTIME);
    expect(reached.length).toBeGreaterThan(1); // it does reach the services' chunks
    expect(chains.map((chain) => chain.join(' → '))).toEqual([]);
  });

  it('compute.js does load it (the check can see an import of onnxruntime-node)', () => {
    expect(chainsTo('compute.js', RUNTIME).chains.length).toBeGreaterThan(0);
  });
});
