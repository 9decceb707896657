/**
 * autodiff — reverse-mode automatic differentiation over the onnx/ graph IR. ONNX Runtime has
 * no training build here, so training graphs are made by appending backward nodes to a forward
 * graph: `differentiate(forward, { loss, wrt })` returns the forward nodes plus, for each
 * parameter named in `wrt`, an output `grad.<name>` holding d(loss)/d(parameter).
 *
 * Owns: the public entry point. The per-op rules live in rules/, shape inference in shapes.ts,
 * the node emitter (with run-time unbroadcasting) in emitter.ts, the graph walk in differentiate.ts,
 * recomputation of chosen forward values in the backward pass (memory for time) in recompute.ts,
 * finite-difference checks (for tests of rules and of whole training graphs) in check.ts.
 */
export { differentiate, gradName, type DifferentiateOptions } from './differentiate';
export { GRAD_RULES, type GradRule, type RuleContext } from './rules';
export { checkGradient, type GradientCheck, type GradientCheckResult } from './check';
