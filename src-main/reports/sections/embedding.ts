/** reports/sections/embedding — an embedding run's matrices: model, layer, pooling and shape of each file. */
import type { ReportFacts } from '../facts';
import { tableHtml } from '../html';
import { paragraph, type Section } from './types';

export function embeddingSections(facts: ReportFacts): Section[] {
  const list = facts.embeddings ?? [];
  const html =
    list.length === 0
      ? paragraph('This run has no embedding matrices (yet).')
      : tableHtml(
          [{ label: 'Model' }, { label: 'Layer', numeric: true }, { label: 'Pooling' }, { label: 'Rows', numeric: true }, { label: 'Columns', numeric: true }, { label: 'File (in the project folder)' }],
          list.map((e) => [e.modelName, e.layer, e.pooling, e.rows, e.cols, e.path]),
          'matrices',
        );
  return [{ id: 'matrices', title: 'Embedding matrices', html }];
}
