/**
 * electron/main — the desktop app's main process: one window with a sandboxed renderer, the
 * services behind one IPC channel, the job runner with a utilityProcess for compute. Navigation
 * away from the app and new windows are refused; every IPC request is validated by dispatch.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, shell, type WebContents } from 'electron';
import { createHost, type Host } from '../services';
import { EXTERNAL_HOSTS, externalLinkAllowed } from './external-links';
import { utilityComputeLauncher } from './launcher';
import { printReportToPdf } from './report-pdf';

const here = dirname(fileURLToPath(import.meta.url));
const API_CHANNEL = 'esm-studio:api';
const EVENT_CHANNEL = 'esm-studio:event';
const rendererIndex = join(here, '..', 'renderer', 'index.html');

/** In development better-sqlite3 is rebuilt for Electron into .electron-native (scripts/electron-native.mjs). */
function electronNativeBinding(): string | undefined {
  if (app.isPackaged) return undefined;
  const candidate = join(app.getAppPath(), '.electron-native', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  return existsSync(candidate) ? candidate : undefined;
}

function isAppUrl(url: string): boolean {
  const devServer = process.env.ELECTRON_RENDERER_URL;
  if (devServer && url.startsWith(devServer)) return true;
  try {
    return new URL(url).protocol === 'file:' && fileURLToPath(url) === rendererIndex;
  } catch {
    return false;
  }
}

function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    // Links to the sites the app points to open in the user's browser, never inside the app.
    if (externalLinkAllowed(url)) void shell.openExternal(url);
    else console.warn(`ESM Studio: refused to open ${url} (not a link to ${EXTERNAL_HOSTS.join(', ')}).`);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1360,
    height: 860,
    title: 'ESM Studio',
    show: false,
    webPreferences: {
      preload: join(here, '..', 'preload', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  lockDown(window.webContents);
  window.once('ready-to-show', () => window.show());
  if (process.env.ELECTRON_RENDERER_URL) void window.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void window.loadFile(rendererIndex);
  return window;
}

function serveIpc(host: Host): void {
  ipcMain.handle(API_CHANNEL, async (event, request: unknown) => {
    const frameUrl = event.senderFrame?.url ?? '';
    if (!isAppUrl(frameUrl)) return { ok: false, error: { code: 'refused', message: 'Requests are only accepted from the app.' } };
    const { method, input } = (request ?? {}) as { method?: unknown; input?: unknown };
    return host.dispatch(method, input);
  });
  host.events.subscribe((payload) => {
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send(EVENT_CHANNEL, payload);
  });
}

/** Another ESM Studio (e.g. serve mode) may hold the data folder (store/lock): say so in a dialog and quit. */
function openHostOrExplain(open: () => Host): Host | null {
  try {
    return open();
  } catch (error) {
    dialog.showErrorBox('ESM Studio cannot start', error instanceof Error ? error.message : String(error));
    return null;
  }
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) return app.quit();
  await app.whenReady();
  const home = process.env.ESM_STUDIO_HOME ?? app.getPath('userData');
  const host = openHostOrExplain(() =>
    createHost({
      home,
      transport: 'ipc',
      nativeBinding: electronNativeBinding(),
      launcher: utilityComputeLauncher(join(here, 'compute.js')),
      parseWorker: join(here, 'dataset-parse-worker.js'),
      reveal: (path) => shell.showItemInFolder(path),
      printPdf: printReportToPdf,
    }),
  );
  if (!host) return app.quit();
  serveIpc(host);
  createWindow();
  app.on('second-instance', () => BrowserWindow.getAllWindows()[0]?.focus());
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => host.close());
}

app.on('web-contents-created', (_event, contents) => lockDown(contents));
void start();
