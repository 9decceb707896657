/**
 * jobs/protocol — the typed messages between the main side (runner) and the compute process.
 * Both ends validate what they receive, as for every other boundary.
 */
import { z } from 'zod';
import { Metric } from '../api/schemas';

export const ToCompute = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('start'),
    jobId: z.number().int(),
    kind: z.string(),
    params: z.unknown(),
    /** What the task saved last time it ran, to resume from; null on a first run. */
    checkpoint: z.unknown(),
    /** The project folder (or, for jobs without a project, the models folder) the task writes into. */
    workDir: z.string(),
    /** Data the main side prepared for the task (e.g. a dataset's sequences). */
    input: z.unknown(),
  }),
  z.object({ type: z.literal('cancel'), jobId: z.number().int() }),
]);
export type ToCompute = z.infer<typeof ToCompute>;

export const FromCompute = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('progress'), jobId: z.number().int(), fraction: z.number().min(0).max(1), message: z.string() }),
  z.object({ type: z.literal('checkpoint'), jobId: z.number().int(), state: z.unknown() }),
  z.object({ type: z.literal('metrics'), jobId: z.number().int(), metrics: z.array(Metric) }),
  z.object({
    type: z.literal('artifact'),
    jobId: z.number().int(),
    kind: z.string(),
    /** Relative to the work folder. */
    path: z.string(),
    checksum: z.string(),
    bytes: z.number().int(),
    meta: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({ type: z.literal('done'), jobId: z.number().int(), summary: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('failed'), jobId: z.number().int(), message: z.string() }),
  z.object({ type: z.literal('cancelled'), jobId: z.number().int() }),
]);
export type FromCompute = z.infer<typeof FromCompute>;

/** A live connection to a compute process, whatever kind of process it is. */
export interface ComputeChannel {
  send(message: ToCompute): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

/** Starts compute processes: a Node child process (serve, CLI) or an Electron utilityProcess. */
export type ComputeLauncher = () => ComputeChannel;
