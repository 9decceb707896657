/**
 * autodiff/rules — the table of gradient rules, one per ONNX op, gathered from the files of
 * this folder. An op absent from the table cannot lie on a path from a parameter to the loss.
 */
import type { GradRule } from './context';
import { ELEMENTWISE_RULES } from './elementwise';
import { MATMUL_RULES } from './matmul';
import { NN_RULES } from './nn';
import { REDUCE_RULES } from './reduce';
import { SHAPE_RULES } from './shape';

export type { GradRule, RuleContext } from './context';

export const GRAD_RULES: Readonly<Record<string, GradRule>> = {
  ...ELEMENTWISE_RULES,
  ...MATMUL_RULES,
  ...SHAPE_RULES,
  ...NN_RULES,
  ...REDUCE_RULES,
};
