/**
 * End-to-end in the real desktop window (Electron, driven by playwright-core's Electron support):
 * the preload bridge and IPC transport, the sandboxed renderer without Node, the compute utility
 * process and printToPDF — what serve mode cannot check. A project is made, a FASTA imported and
 * embedded with the tiny model from the window, and the run's report printed to PDF.
 *
 * It runs wherever Electron's binary is already on the machine (a user's first `npm start`
 * downloaded it, a cached download, or ELECTRON_OVERRIDE_DIST_PATH) and a display can be had (the
 * session's or Xvfb); elsewhere (this project's CI: the binary cannot be downloaded there) it is
 * skipped with the reason printed. `npm run dist -- --dir` is checked the same way.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/schemas';
import { openAppHost } from '../support/app-host';
import { SCREENSHOTS } from '../support/browser';
import { display, electronBinary, electronNativeModules, type Display } from '../support/electron';
import { loadGolden } from '../support/golden';
import { fastaText, randomProteins } from '../support/random-proteins';
import { ROOT, temporaryHome } from '../support/serve';

const binary = electronBinary();
const screen = binary.ok ? await display() : null;
const skipReason = !binary.ok ? binary.reason : screen && !screen.ok ? screen.reason : null;
if (skipReason) console.log(`Desktop window test skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('the desktop window', () => {
  const home = temporaryHome('esm-desktop-');
  let app: ElectronApplication;
  let window: Page;
  let shown: Display;

  beforeAll(async () => {
    const native = electronNativeModules();
    if (!native.ok) throw new Error(native.reason);
    // The model is installed beforehand through the same back end (its folder dialog is the OS's).
    const seeded = openAppHost(home);
    try {
      const install = await seeded.call<Job>('jobs.start', { kind: 'model.install', path: loadGolden('tiny').checkpoint });
      expect((await seeded.finished(install.id)).state).toBe('done');
    } finally {
      seeded.close();
    }
    shown = (screen as { ok: true; value: Display }).value;
    app = await _electron.launch({
      executablePath: (binary as { ok: true; value: string }).value,
      args: [ROOT],
      cwd: ROOT,
      env: { ...(process.env as Record<string, string>), ...shown.env, ESM_STUDIO_HOME: home },
      timeout: 120_000,
    });
    window = await app.firstWindow();
    await window.setViewportSize({ width: 1360, height: 1000 });
  }, 15 * 60_000);

  afterAll(async () => {
    await app?.close();
    shown?.stop();
  });

  it('keeps Node out of the page and talks to the back end through the preload bridge only', async () => {
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await window.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await window.evaluate(() => Object.keys((globalThis as unknown as { esmStudio: object }).esmStudio).sort())).toContain('call');
    const csp = await window.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '');
    expect(csp).toContain("default-src 'self'");
    // One window: the app opened once (the single-instance lock), and no hidden print window is left over.
    const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length);
    expect(windows).toBe(1);
  });

  it('makes a project, imports a FASTA, embeds it in the utility process and prints the report to PDF', { timeout: 10 * 60_000 }, async () => {
    await window.getByTestId('nav-projects').click();
    await window.getByTestId('project-name-input').fill('Desktop');
    await window.getByTestId('project-create').click();
    await window.getByTestId('project-row').filter({ hasText: 'Desktop' }).getByTestId('project-open').click();
    await window.getByTestId('import-file').setInputFiles({ name: 'proteins.fasta', mimeType: 'text/plain', buffer: Buffer.from(fastaText(randomProteins(31, 12, 30, 80), 'p')) });
    await window.getByTestId('import-accept').click();
    await expect.poll(() => window.getByTestId('sequence-row').count(), { timeout: 60_000 }).toBeGreaterThan(0);

    await window.getByTestId('nav-runs').click();
    const form = window.getByTestId('embed-form');
    await form.getByTestId('embed-model').first().check();
    await form.getByTestId('embed-start').click();
    await window.locator('[data-testid="job-row"][data-state="done"]').filter({ hasText: 'mbed' }).first().waitFor({ timeout: 5 * 60_000 });
    await window.screenshot({ path: join(SCREENSHOTS, '99-desktop-embedded.png') });

    await window.getByTestId('nav-reports').click();
    await window.locator('[data-testid="report-run-row"][data-kind="embed.dataset"]').getByTestId('report-create').click();
    const report = window.getByTestId('report-row').first();
    await report.waitFor();
    await report.getByTestId('report-pdf').click();
    await report.getByTestId('report-pdf-download').waitFor({ timeout: 60_000 });
    const exportsFolder = join(home, 'projects');
    const pdfs = findFiles(exportsFolder, (name) => /^report-run\d+-.*\.pdf$/.test(name));
    expect(pdfs).toHaveLength(1);
    const bytes = readFileSync(pdfs[0]!);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.length).toBeGreaterThan(5000);
    await window.screenshot({ path: join(SCREENSHOTS, '99-desktop-report.png') });
  });

  it('packages with `npm run dist -- --dir` into a folder that holds the app and its native modules', { timeout: 15 * 60_000 }, () => {
    const electronDist = dirname((binary as { ok: true; value: string }).value);
    const result = spawnSync('npm', ['run', 'dist', '--', '--dir', `-c.electronDist=${electronDist}`], { cwd: ROOT, encoding: 'utf8', timeout: 15 * 60_000 });
    expect(result.status, result.stderr.slice(-2000)).toBe(0);
    const asar = findFiles(join(ROOT, 'dist'), (name) => name === 'app.asar');
    expect(asar.length).toBeGreaterThan(0);
    const unpacked = findFiles(join(ROOT, 'dist'), (name) => name === 'better_sqlite3.node');
    expect(unpacked.length).toBeGreaterThan(0);
  });
});

/** Files under `root` (recursively) whose name passes `test`. */
function findFiles(root: string, test: (name: string) => boolean): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}
