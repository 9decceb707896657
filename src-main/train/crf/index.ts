/**
 * train/crf — the CRF head of signal-peptide tagging the PEFT-SP / SignalP 6.0 way (issue 16), in the
 * "heads (incl. CRF)" place of train/ (ARCHITECTURE.md). Pure float64 TypeScript, outside the ONNX
 * graph: the graph outputs emissions [batch, 70, 37]; this folder turns them into the loss, the
 * gradient fed back into the backward graph, the CRF's own gradients, and the predictions.
 *
 * - linear-chain: the generic CRF (forward–backward, bitmap NLL, gradients, Viterbi, soft constraints);
 * - signalp-states: the 37 states and SignalP 6.0's allowed transitions/starts/ends;
 * - signalp-targets: per-residue labels → 37-state target bitmaps;
 * - signalp-batch: records → tokens, bitmaps, residue tokens; CRF init; the six partition orders;
 * - signalp-head: training loss with the region regulariser, type and cleavage-site decoding.
 *
 * Checked against the golden references in test/fixtures/golden/signalp-tiny (≤ 1e-12 in float64).
 */
export * from './linear-chain';
export * from './signalp-states';
export * from './signalp-targets';
export * from './signalp-batch';
export * from './signalp-head';
