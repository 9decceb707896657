/**
 * Build of the three Electron parts. The main side has several entries that share one output
 * folder: the Electron main process, the serve process, the CLI, the compute process (which
 * Electron forks as a utilityProcess and serve/CLI fork as a child process) and the dataset
 * parse worker (a worker thread of serve and the desktop app).
 */
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import pkg from './package.json' with { type: 'json' };

export default defineConfig({
  main: {
    define: { __APP_VERSION__: JSON.stringify(pkg.version) },
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          main: resolve('src-main/electron/main.ts'),
          serve: resolve('src-main/serve/index.ts'),
          cli: resolve('src-main/cli/index.ts'),
          compute: resolve('src-main/jobs/compute-process.ts'),
          // A worker thread of serve and the desktop app: parses large dataset files off the main loop.
          'dataset-parse-worker': resolve('src-main/services/dataset-parse-worker.ts'),
          // Worker threads of the similarity split (learn/homology): query chunks aligned on every core.
          'homology-worker': resolve('src-main/jobs/homology-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { preload: resolve('src-main/electron/preload.ts') },
        // A sandboxed preload cannot be an ES module.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    plugins: [svelte()],
    build: {
      outDir: 'out/renderer',
      minify: true,
      rollupOptions: { input: resolve('src-renderer/index.html') },
    },
  },
});
