/** reports/sections/types — a report section (a title and HTML already escaped by its builder) and the figure wrapper. */
import { escapeHtml } from '../html';

export interface Section {
  /** Anchor id; also a stable hook for tests and stylesheets. */
  id: string;
  title: string;
  /** Trusted HTML made by reports/html and reports/svg (user text escaped there). */
  html: string;
}

/** A figure: inline SVG (from reports/svg) with a plain-text caption. */
export function figureHtml(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

export const paragraph = (text: string): string => `<p>${escapeHtml(text)}</p>`;
