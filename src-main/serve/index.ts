/**
 * serve — `npm run serve`: the app in a browser. Opens the app home, starts the job runner with a
 * Node compute child process, serves the built renderer and prints the address to open.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeComputeLauncher } from '../jobs/node-launcher';
import { createHost, defaultHome } from '../services';
import { ALLOW_ENV, allowedFoldersFromEnv } from '../services/paths';
import { startServer } from './server';

const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const home = defaultHome();
  const host = createHost({
    home,
    transport: 'websocket',
    launcher: nodeComputeLauncher(join(here, 'compute.js')),
    parseWorker: join(here, 'dataset-parse-worker.js'),
  });
  const server = await startServer({
    host,
    rendererDir: join(here, '..', 'renderer'),
    port: Number(process.env.ESM_STUDIO_PORT ?? 0) || undefined,
    token: process.env.ESM_STUDIO_TOKEN || undefined,
  });
  console.log(`ESM Studio is serving ${home}`);
  const readable = [home, ...allowedFoldersFromEnv()].join(', ');
  console.log(`Files named by path are read only inside: ${readable} (add folders with ${ALLOW_ENV}).`);
  console.log(`Open ${server.url}`);
  const shutdown = (): void => {
    void server.close().then(() => {
      host.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
