/**
 * core/saturation-summary — summaries of a saturation map drawn beside it, pure so that the
 * Variants page (renderer) and the saturation-map report compute them the same way.
 */

/** The mean over the 19 mutants of each position (the wild-type cell and missing cells left out); null when none. */
export function positionMeans(wildType: string, aminoAcids: readonly string[], scores: readonly (number | null)[]): (number | null)[] {
  const n = aminoAcids.length;
  return [...wildType].map((wt, p) => {
    let sum = 0;
    let count = 0;
    aminoAcids.forEach((aa, a) => {
      const v = scores[p * n + a];
      if (aa === wt || v === null || v === undefined || !Number.isFinite(v)) return;
      sum += v;
      count += 1;
    });
    return count > 0 ? sum / count : null;
  });
}
