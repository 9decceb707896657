// lib/run-differences — short names for runs shown together (curves of several fine-tuning runs):
// each run is named by the settings in which it differs from the others ("#12 lr 0.003, rank 16"),
// so a legend says at a glance which curve is which instead of repeating long, identical titles.
import type { Run } from './types';

/** Settings worth naming, in the order they are listed, with how they read. */
const SETTINGS: { key: string; name: string; read?: (value: unknown) => string }[] = [
  { key: 'modelName', name: 'model' },
  { key: 'peft.method', name: 'method' },
  { key: 'headOnly', name: 'head only', read: (v) => (v ? 'yes' : 'no') },
  { key: 'lr', name: 'lr' },
  { key: 'loraR', name: 'rank' },
  { key: 'loraAlpha', name: 'alpha' },
  { key: 'loraLayers', name: 'layers' },
  { key: 'loraTargets', name: 'on', read: (v) => (Array.isArray(v) ? v.join('+') : String(v)) },
  { key: 'head', name: 'head' },
  { key: 'pool', name: 'pool' },
  { key: 'optimizer', name: 'optimizer' },
  { key: 'schedule', name: 'schedule' },
  { key: 'epochs', name: 'epochs' },
  { key: 'batchTokens', name: 'batch' },
  { key: 'seed', name: 'seed' },
];

function lookup(run: Run, key: string): unknown {
  const params = run.params as Record<string, unknown>;
  const settings = (params.settings ?? {}) as Record<string, unknown>;
  const source = key in params && key !== 'settings' ? params : settings;
  return key.split('.').reduce<unknown>((value, part) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined), source);
}

const text = (setting: (typeof SETTINGS)[number], value: unknown): string =>
  setting.read ? setting.read(value) : typeof value === 'number' ? String(Number(value.toPrecision(3))) : String(value);

/** Each run's short label: "#id" and what sets it apart; a run shown alone keeps its title. */
export function distinguishingLabels(runs: readonly Run[]): Map<number, string> {
  if (runs.length < 2) return new Map(runs.map((run) => [run.id, `#${run.id} ${run.title}`]));
  const differing = SETTINGS.filter((setting) => new Set(runs.map((run) => JSON.stringify(lookup(run, setting.key)))).size > 1);
  return new Map(
    runs.map((run) => {
      const parts = differing.filter((s) => lookup(run, s.key) !== undefined).map((s) => `${s.name} ${text(s, lookup(run, s.key))}`);
      return [run.id, parts.length > 0 ? `#${run.id} ${parts.join(', ')}` : `#${run.id} ${run.title}`];
    }),
  );
}
