/**
 * reports/predictions — reading the out-of-fold predictions file a scan writes for each fit
 * (`id,fold,y,yhat`, fields quoted as in exports/csv). Pure text → columns.
 */

/** Splits one CSV line, honouring double quotes ("a,b" and "" escapes). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

export interface PredictionColumns {
  ids: string[];
  folds: number[];
  measured: (number | string)[];
  predicted: (number | string)[];
}

/** Parses a predictions file; regression values become numbers, class names stay text. */
export function parsePredictionsCsv(text: string, task: 'regression' | 'classification'): PredictionColumns {
  const lines = text.split(/\r?\n/).filter((line) => line !== '');
  const header = splitCsvLine(lines[0] ?? '');
  if (header.join(',') !== 'id,fold,y,yhat') throw new Error(`Unexpected predictions header "${header.join(',')}".`);
  const out: PredictionColumns = { ids: [], folds: [], measured: [], predicted: [] };
  const value = (cell: string): number | string => (task === 'regression' ? Number(cell) : cell);
  for (const line of lines.slice(1)) {
    const [id = '', fold = '', y = '', yhat = ''] = splitCsvLine(line);
    out.ids.push(id);
    out.folds.push(Number(fold));
    out.measured.push(value(y));
    out.predicted.push(value(yhat));
  }
  return out;
}
