/**
 * train/class-weights — "balanced" loss weights from the training examples, so a rare class
 * counts as much as a common one: per class n / (k · n_class) (scikit-learn's `balanced`, the
 * weights PyTorch's CrossEntropyLoss takes), and for multi-label targets each label's
 * pos_weight = negatives / positives (as PyTorch's BCEWithLogitsLoss documents). Counted on the
 * training examples only, so the validation set does not leak into training. A class or label
 * that never occurs in training gets 1 (there is nothing to balance it against).
 */
import type { TaskSpec } from './graph';
import type { ExampleTargets } from './onnx-step';

export type ClassWeighting = 'none' | 'balanced';

function balanced(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? total / (present * c) : 1));
}

/** Class counts over `members` (classification), or over their labelled residues (token task). */
function classCounts(targets: Extract<ExampleTargets, { kind: 'classification' | 'token' }>, members: readonly number[]): number[] {
  const counts = new Array<number>(targets.classes.length).fill(0);
  for (const i of members) {
    if (targets.kind === 'classification') counts[targets.labels[i]!]! += 1;
    else for (const label of targets.labels[i]!) if (label >= 0) counts[label]! += 1;
  }
  return counts;
}

function positiveWeights(targets: Extract<ExampleTargets, { kind: 'multilabel' }>, members: readonly number[]): number[] {
  const k = targets.labels.length;
  return targets.labels.map((_, j) => {
    let positives = 0;
    for (const i of members) positives += targets.values[i * k + j]!;
    const negatives = members.length - positives;
    return positives > 0 && negatives > 0 ? negatives / positives : 1;
  });
}

/** The task with its loss weights (unchanged for 'none' and for regression). */
export function weightedTask(task: TaskSpec, targets: ExampleTargets, trainMembers: readonly number[], weighting: ClassWeighting): TaskSpec {
  if (weighting === 'none') return task;
  if (task.kind === 'classification' && targets.kind === 'classification') return { ...task, classWeights: balanced(classCounts(targets, trainMembers)) };
  if (task.kind === 'token' && targets.kind === 'token') return { ...task, classWeights: balanced(classCounts(targets, trainMembers)) };
  if (task.kind === 'multilabel' && targets.kind === 'multilabel') return { ...task, posWeight: positiveWeights(targets, trainMembers) };
  return task;
}
