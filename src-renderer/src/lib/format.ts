// lib/format — turning numbers, dates and durations into short, plain-language text.
// Kind names, key wording and date parsing are shared with the reports (src-main/core/wording).
import { parseDate } from '../../../src-main/core/wording';

export { humanize, kindName, parseDate } from '../../../src-main/core/wording';

const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

/** "12 Mar 2025" */
export function formatDate(value: string | null | undefined): string {
  const date = parseDate(value);
  return date ? dateFormat.format(date) : (value ?? '');
}

/** "12 Mar 2025, 14:03" */
export function formatDateTime(value: string | null | undefined): string {
  const date = parseDate(value);
  return date ? dateTimeFormat.format(date) : (value ?? '');
}

/** "about 2 min left"; empty when unknown. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 10) return 'a few seconds left';
  return `${formatDuration(seconds)} left`;
}

/** 75 → "about 75 s", 3900 → "about 1 h 5 min" (rounded as a person would say it). */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `about ${Math.round(seconds / 5) * 5} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `about ${hours} h` : `about ${hours} h ${rest} min`;
}

/** 0.423 → "42%" (clamped to 0–100). */
export function formatPercent(fraction: number): string {
  const value = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return `${Math.floor(value * 100)}%`;
}

/** Numbers with at most `digits` decimals and thousands separators. */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e7 || abs < 10 ** -digits)) return value.toPrecision(3);
  return value.toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** Any value from a run's summary or a label cell, as short text. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => ['string', 'number'].includes(typeof item))) {
    return value.length === 0 ? '—' : value.map((item) => formatValue(item)).join(', ');
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** "1 sequence", "3 sequences" */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

/** "proteins.fasta" → "proteins" */
export function stripExtension(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Shortens text to `max` characters, ending with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** 31_000_000 → "31 MB", 2_600_000_000 → "2.6 GB" (decimal units, as disk sizes are usually shown). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} ${value === 1 ? 'byte' : 'bytes'}`;
  const digits = value < 10 ? 1 : 0;
  return `${value.toLocaleString(undefined, { maximumFractionDigits: digits })} ${units[unit]}`;
}

/** A model's weight count: 7_500_000 → "8 M", 148_000_000 → "150 M", 2_840_000_000 → "3 B". */
export function formatParameters(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return '—';
  const [value, unit] = count >= 1e9 ? [count / 1e9, 'B'] : count >= 1e6 ? [count / 1e6, 'M'] : [count / 1e3, 'k'];
  const shown = value < 10 ? Math.round(value) : Number(value.toPrecision(2));
  return `${shown.toLocaleString()} ${unit}`;
}
