/**
 * test/support/browser-session — the usual setting of an end-to-end file: serve on a fresh home,
 * an API client on its socket, and Chromium with one page, opened before the file's tests and
 * closed after them. Tests read them from the returned object (`session.page`, `session.api`).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from './browser';
import { startServe, stopServe, temporaryHome, type ServeHandle } from './serve';
import { connectApi, type ApiClient } from './ws-client';

export interface BrowserSession {
  server: ServeHandle;
  api: ApiClient;
  browser: Browser;
  page: Page;
}

export function useBrowserSession(options: { acceptDownloads?: boolean } = {}): BrowserSession {
  const session = {} as BrowserSession;
  beforeAll(async () => {
    session.server = await startServe(temporaryHome());
    session.api = await connectApi(session.server);
    session.browser = await launchChromium();
    session.page = await session.browser.newPage({ viewport: { width: 1360, height: 1000 }, acceptDownloads: options.acceptDownloads ?? false });
  });
  afterAll(async () => {
    session.api?.close();
    await session.browser?.close();
    if (session.server) await stopServe(session.server);
  });
  return session;
}
