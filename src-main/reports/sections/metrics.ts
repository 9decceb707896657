/**
 * reports/sections/metrics — training curves from a run's metric series (the metrics table):
 * every series is by optimizer step, as train/loop records them: `train_loss`, `lr` and
 * `grad_norm` at every step, `val_loss`, `val_<metric>` and `epoch_train_loss` at the step each
 * epoch ended. Training and validation loss share a figure; any other name gets its own. Shown for any run kind that records series (fine-tuning first).
 */
import type { Metric } from '../../api/schemas';
import type { ReportFacts } from '../facts';
import { tableHtml } from '../html';
import { lineChartSvg } from '../svg';
import { figureHtml, type Section } from './types';

export interface CurveGroup {
  title: string;
  xLabel: string;
  yLabel: string;
  names: string[];
}

/** Which series share a figure: train and validation loss together, every other series alone. */
export function curveGroups(names: readonly string[]): CurveGroup[] {
  const present = new Set(names);
  const groups: CurveGroup[] = [];
  const used = new Set<string>();
  const add = (title: string, xLabel: string, yLabel: string, members: string[]): void => {
    const found = members.filter((n) => present.has(n) && !used.has(n));
    if (found.length === 0) return;
    found.forEach((n) => used.add(n));
    groups.push({ title, xLabel, yLabel, names: found });
  };
  add('Loss per step', 'Step', 'Loss', ['loss']);
  add('Learning rate', 'Step', 'Learning rate', ['lr']);
  add('Training and validation loss', 'Step', 'Loss', ['train_loss', 'val_loss']);
  for (const name of [...present].sort()) add(name, 'Step', name, [name]);
  return groups;
}

function byName(metrics: readonly Metric[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const m of metrics) {
    const list = out.get(m.name) ?? [];
    list.push([m.step, m.value]);
    out.set(m.name, list);
  }
  for (const list of out.values()) list.sort((a, b) => a[0] - b[0]);
  return out;
}

function summaryTable(series: Map<string, [number, number][]>): string {
  const rows = [...series].map(([name, points]) => {
    const values = points.map((p) => p[1]).filter(Number.isFinite);
    const last = points.at(-1)!;
    return [name, points.length, points[0]![0], last[0], last[1], Math.min(...values), Math.max(...values)];
  });
  const columns = [
    { label: 'Series' },
    { label: 'Points', numeric: true },
    { label: 'First step', numeric: true },
    { label: 'Last step', numeric: true },
    { label: 'Last value', numeric: true },
    { label: 'Minimum', numeric: true },
    { label: 'Maximum', numeric: true },
  ];
  return tableHtml(columns, rows, 'metrics curves');
}

export function metricsSections(facts: ReportFacts): Section[] {
  if (facts.metrics.length === 0) return [];
  const series = byName(facts.metrics);
  const figures = curveGroups([...series.keys()]).map((group) => {
    const svg = lineChartSvg({
      title: group.title,
      xLabel: group.xLabel,
      yLabel: group.yLabel,
      series: group.names.map((name) => ({ name, points: series.get(name)! })),
      markers: group.names.every((n) => series.get(n)!.length <= 30),
    });
    return figureHtml(svg, `${group.title}: ${group.names.join(', ')}.`);
  });
  return [{ id: 'curves', title: 'Training curves', html: summaryTable(series) + figures.join('\n') }];
}
