/**
 * electron/report-pdf — prints a report (a standalone HTML file with no scripts) to PDF in the
 * desktop app: a hidden, sandboxed window with JavaScript off loads the file, Chromium's
 * printToPDF renders it, and the bytes are written beside it. The window is always destroyed.
 */
import { BrowserWindow } from 'electron';
import { writeBytesAtomically } from '../core/atomic';

/** How long loading a report may take before printing gives up (they are local and small). */
const LOAD_TIMEOUT_MS = 30_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export async function printReportToPdf(htmlPath: string, pdfPath: string): Promise<void> {
  const window = new BrowserWindow({
    show: false,
    width: 1024,
    height: 1400,
    webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false, webSecurity: true, spellcheck: false },
  });
  try {
    await withTimeout(window.loadFile(htmlPath), LOAD_TIMEOUT_MS, `The report ${htmlPath} did not load in time.`);
    const pdf = await window.webContents.printToPDF({ printBackground: true, pageSize: 'A4' });
    writeBytesAtomically(pdfPath, new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength));
  } finally {
    window.destroy();
  }
}
