/**
 * core/wording — words a biologist reads in place of the app's internal names: job and run kinds
 * ("learn.scan" → "Model scan"), setting keys ("warmupRatio" → "Warmup ratio") and dates in the
 * reader's own time. One home for the app (renderer: lib/format re-exports these) and the reports
 * (reports/), so a run is called the same on screen and on paper.
 */

const KIND_NAMES: Record<string, string> = {
  'system.benchmark': 'Benchmark',
  'embed.dataset': 'Embedding run',
  'model.install': 'Model install',
  'model.download': 'Model download',
  'embeddings.compress': 'Compression',
  'embeddings.export': 'Export',
  'map.project': 'Embedding map',
  'structure.inspect': 'Structure contacts and attention',
  'train.explain': 'Attributions (integrated gradients)',
  'learn.scan': 'Model scan',
  'learn.predict': 'Prediction',
  'variants.score': 'Zero-shot variant scores',
  'variants.saturate': 'Saturation map',
  'train.finetune': 'Fine-tuning run',
  'train.signalPeptide': 'Signal-peptide fine-tuning run',
  'train.signalPeptideCv': 'Signal-peptide cross-validation (six runs)',
  'train.signalPeptidePredict': 'Signal-peptide prediction',
  'train.predict': 'Fine-tuned prediction',
  'train.import': 'Imported fine-tuned model',
};

/** "meanSeconds" / "gflops_per_s" → "Mean seconds" / "Gflops per s" */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A job or run kind as a word a biologist can read. */
export function kindName(kind: string): string {
  return KIND_NAMES[kind] ?? humanize(kind.split('.').pop() ?? kind);
}

/** Parses an ISO date (or SQLite's "YYYY-MM-DD HH:MM:SS", taken as UTC); null when unreadable. */
export function parseDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const text = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * "7 Dec 2026, 14:05 CET": a date in the reader's time zone (or the one given: IANA name), with
 * the zone named so a printed page stays unambiguous. Unreadable text comes back as it is.
 */
export function formatLocalDateTime(value: string | null | undefined, timeZone?: string): string {
  const date = parseDate(value);
  if (!date) return value ?? '';
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', ...(timeZone ? { timeZone } : {}) }).format(date);
}
