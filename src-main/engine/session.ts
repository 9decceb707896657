/**
 * engine/session — onnxruntime sessions on the device the user chose (cpu, cuda, dml, webgpu,
 * coreml). When that device cannot run here the session falls back to the CPU and says why, in
 * words a user can act on. Sessions only ever live in the compute process or the CLI.
 */
import * as ort from 'onnxruntime-node';
import { DEVICES, type Device } from '../core/devices';

export type { Device } from '../core/devices';

export interface SessionOptions {
  device?: Device;
  /** Threads for the CPU provider; 0 or undefined lets onnxruntime decide. */
  threads?: number;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The device the session really runs on. */
  device: Device;
  /** Why the requested device was not used, when it was not. */
  fallbackReason: string | null;
}

const PLATFORM_HINT: Record<Exclude<Device, 'cpu'>, string> = {
  cuda: 'CUDA needs an NVIDIA GPU and the CUDA libraries for onnxruntime (see README, "GPU acceleration")',
  dml: 'DirectML is only available on Windows',
  webgpu: 'WebGPU needs a GPU with Vulkan, Metal or Direct3D 12 drivers',
  coreml: 'Core ML is only available on macOS',
};

/** The devices onnxruntime-node reports for this platform (bundled or installable). */
export function availableDevices(): Device[] {
  const names = new Set(ort.listSupportedBackends().map((backend) => backend.name));
  return DEVICES.filter((device) => device === 'cpu' || names.has(device));
}

function sessionOptions(device: Device, threads: number | undefined): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: device === 'cpu' ? ['cpu'] : [device, 'cpu'],
    graphOptimizationLevel: 'all',
    ...(threads && threads > 0 ? { intraOpNumThreads: threads } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // With memory patterns on, onnxruntime keeps a second arena beside the first run's for
    // every new input shape: peak memory nearly doubles from the second batch on, at no gain
    // in speed (bench/embed). Off, a 650M model embeds long sequences within 2× its weights.
    enableMemPattern: false,
  };
}

export async function openSession(modelPath: string, options: SessionOptions = {}): Promise<OpenedSession> {
  const device = options.device ?? 'cpu';
  if (device !== 'cpu') {
    if (!availableDevices().includes(device)) {
      return fallBack(modelPath, options, `${device} is not available on this computer: ${PLATFORM_HINT[device]}.`);
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, sessionOptions(device, options.threads));
      return { session, device, fallbackReason: null };
    } catch (error) {
      const reason = readableReason(error);
      return fallBack(modelPath, options, `${device} could not start (${reason}); ${PLATFORM_HINT[device]}.`);
    }
  }
  const session = await ort.InferenceSession.create(modelPath, sessionOptions('cpu', options.threads));
  return { session, device: 'cpu', fallbackReason: null };
}

/** onnxruntime's first error line, without its source-file prefix (which means nothing to a user). */
function readableReason(error: unknown): string {
  const line = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  return line.replace(/^\S*onnxruntime_src\S*\s*/, '').replace(/^.*?lambda\(\)>\s*/, '').trim() || 'unknown error';
}

async function fallBack(modelPath: string, options: SessionOptions, reason: string): Promise<OpenedSession> {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions('cpu', options.threads));
  return { session, device: 'cpu', fallbackReason: `Running on the CPU instead: ${reason}` };
}
