/**
 * store/paths — where ESM Studio keeps its data: the platform's per-user application folder
 * (the same one Electron calls userData, so the app, serve mode and the CLI share it), or
 * ESM_STUDIO_HOME when set. Each project owns a folder under projects/.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PRODUCT_NAME = 'ESM Studio';

/** The folder of one model's files inside an embedding run: its name, safe on every file system. */
export const modelFolderName = (name: string): string => name.replace(/[^A-Za-z0-9._-]+/g, '_');

export function defaultHome(platform: NodeJS.Platform = process.platform, env = process.env): string {
  if (env.ESM_STUDIO_HOME) return env.ESM_STUDIO_HOME;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', PRODUCT_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), PRODUCT_NAME);
}

export interface HomeLayout {
  root: string;
  database: string;
  projects: string;
  models: string;
}

export function homeLayout(root: string): HomeLayout {
  const layout = {
    root,
    database: join(root, 'esm-studio.sqlite'),
    projects: join(root, 'projects'),
    models: join(root, 'models'),
  };
  for (const dir of [layout.root, layout.projects, layout.models]) mkdirSync(dir, { recursive: true });
  return layout;
}
