/**
 * train/int8 — what fine-tuning says about int8 models, in a module with no imports, so that the
 * services (main process) can refuse a request without loading the training code (and with it
 * onnxruntime) into the main bundle.
 */

/**
 * Why LoRA cannot be trained on (merged into) an int8 model: its weights are rounded per channel,
 * so a merged model would round the adapters away. Head-only training does not merge, so it works.
 */
export function int8MergeRefusal(modelName: string): string {
  return `${modelName} is installed in int8, which is for embedding and scoring: its rounded weights cannot take the adapters LoRA trains. Install the model in fp32 (or fp16) to fine-tune it with LoRA, or train the head only.`;
}
