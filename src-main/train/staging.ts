/**
 * train/staging — a fine-tuning run's results appear together or not at all. They are written
 * into `<out>/.results-staging-<pid>/` (adapter, head, their configs, head.onnx, merged/,
 * metrics.csv, and training.json last), then moved into `<out>` by store/atomic's
 * publishStaging: the earlier training.json goes first and the new one arrives last, so the
 * shareable files never sit next to a training.json that is not theirs, and files without a
 * training.json are not a finished run. Before a run, what killed runs left is settled: a
 * complete staging folder is moved into place, an incomplete one removed, and half-built
 * `.merged.merging-<pid>` folders (train/merge) removed, when their process is gone.
 */
import { openStaging, publishStaging, settleStaging } from '../store/atomic';

const RESULTS_PREFIX = '.results-staging-';
/** The file whose arrival marks a complete set of results. */
const COMPLETE_MARK = 'training.json';

/** The prefix of the folders a merge into `<parent>/<name>` builds in (train/merge). */
export function mergingPrefix(name: string): string {
  return `.${name}.merging-`;
}

export function openResultsStaging(outDir: string): string {
  return openStaging(outDir, RESULTS_PREFIX);
}

export function publishResults(staging: string, outDir: string): void {
  publishStaging(staging, outDir, COMPLETE_MARK);
}

/** Before a run on `outDir`: finishes or removes what killed runs left there. */
export function settleResults(outDir: string, mergedName: string): void {
  settleStaging(outDir, RESULTS_PREFIX, COMPLETE_MARK);
  settleStaging(outDir, mergingPrefix(mergedName));
}
