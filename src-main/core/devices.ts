/**
 * core/devices — the one list of devices a model can run on (onnxruntime's execution providers
 * as the user picks them), with the words the forms show. The API's schema, the CLI's --device
 * choices, the engine's sessions and the renderer's forms all read it. Pure data.
 */

export const DEVICES = ['cpu', 'cuda', 'dml', 'webgpu', 'coreml'] as const;
export type Device = (typeof DEVICES)[number];

/** The devices as the forms offer them, in the same order. */
export const DEVICE_CHOICES: readonly { value: Device; label: string }[] = [
  { value: 'cpu', label: 'CPU' },
  { value: 'cuda', label: 'NVIDIA GPU (CUDA)' },
  { value: 'dml', label: 'GPU on Windows (DirectML)' },
  { value: 'webgpu', label: 'GPU (WebGPU)' },
  { value: 'coreml', label: 'Apple chip (Core ML)' },
];
