/**
 * train/resume-settings — whether a fine-tuning run may continue from the checkpoint in its
 * folder with the settings it is given now. Every checkpoint carries the run's settings and a
 * checksum of its data; what differs is named (setting, value then, value now). Settings that
 * only say how far or where to train may change: the step limit, more epochs, the device and
 * the number of threads. Anything else changes the result so far, and is refused. A setting the
 * checkpoint predates (e.g. `peft`) reads as its default, which is what that run trained with.
 */
import { createHash } from 'node:crypto';
import { FinetuneSettings } from '../api/schemas';
import type { TrainingCheckpoint } from './checkpoint';
import type { FinetuneTable } from './finetune-data';
import { SettingsChangedError, type SettingDifference } from './loop';

/** What a fine-tune saves in each checkpoint besides the loop's own state. */
export interface RunIdentity {
  settings: FinetuneSettings;
  /** Rows, target columns and a checksum of IDs, sequences and targets. */
  data: string;
}

const MAY_CHANGE: Partial<Record<keyof FinetuneSettings, (before: unknown, after: unknown) => boolean>> = {
  maxSteps: () => true,
  epochs: (before, after) => typeof before === 'number' && typeof after === 'number' && after >= before,
  device: () => true,
  threads: () => true,
};

export function runIdentity(settings: FinetuneSettings, table: FinetuneTable): RunIdentity {
  const hash = createHash('sha256');
  for (const [i, id] of table.ids.entries()) hash.update(`${id}\u0000${table.sequences[i]}\u0000`);
  for (const column of table.columns) hash.update(`${column.name}\u0000${column.values.join('\u0001')}\u0000`);
  const data = `${table.ids.length} rows, target ${table.columns.map((c) => c.name).join(', ')}, checksum ${hash.digest('hex').slice(0, 12)}`;
  return { settings, data };
}

/**
 * The allowed changes against the checkpoint (to report), or a SettingsChangedError naming the
 * others. A checkpoint from before settings were saved in it is left to the loop's own check.
 */
export function checkResumable(checkpoint: TrainingCheckpoint | null, now: RunIdentity): SettingDifference[] {
  const saved = checkpoint?.extra?.run as RunIdentity | undefined;
  if (!saved) return [];
  const refused: SettingDifference[] = [];
  const allowed: SettingDifference[] = [];
  const withDefaults = FinetuneSettings.safeParse(saved.settings);
  const then = (withDefaults.success ? withDefaults.data : saved.settings) as Record<string, unknown>;
  if (saved.data !== now.data) refused.push({ setting: 'data', before: saved.data, after: now.data });
  for (const [setting, after] of Object.entries(now.settings)) {
    const before = then[setting] ?? null;
    if (JSON.stringify(before) === JSON.stringify(after)) continue;
    const may = MAY_CHANGE[setting as keyof FinetuneSettings];
    (may?.(before, after) ? allowed : refused).push({ setting, before, after });
  }
  if (refused.length > 0) throw new SettingsChangedError(refused);
  return allowed;
}
