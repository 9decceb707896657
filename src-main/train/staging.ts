/**
 * train/staging — a fine-tuning run's results appear together or not at all. They are written
 * into `<out>/.results-staging-<pid>/` (adapter, head, their configs, head.onnx, merged/,
 * metrics.csv, training.json), then moved into `<out>` by core/atomic's publishStaging with
 * training.json first, so the four shareable files (adapter, head and their configs) never
 * exist without the training.json that describes them. Before a run, what killed runs left is
 * settled: a complete (sealed) staging folder is moved into place, an incomplete one removed,
 * and half-built `.merged.merging-<pid>` folders (train/merge) removed, when their process is gone.
 */
import { openStaging, publishStaging, settleStaging } from '../core/atomic';

const RESULTS_PREFIX = '.results-staging-';
/** The run's summary: it arrives before the results it describes. */
const ORDER = { first: ['training.json'] };

/** The prefix of the folders a merge into `<parent>/<name>` builds in (train/merge). */
export function mergingPrefix(name: string): string {
  return `.${name}.merging-`;
}

export function openResultsStaging(outDir: string): string {
  return openStaging(outDir, RESULTS_PREFIX);
}

export function publishResults(staging: string, outDir: string): void {
  publishStaging(staging, outDir, ORDER);
}

/** Before a run on `outDir`: finishes or removes what killed runs left there. */
export function settleResults(outDir: string, mergedName: string): void {
  settleStaging(outDir, RESULTS_PREFIX, ORDER);
  settleStaging(outDir, mergingPrefix(mergedName));
}
