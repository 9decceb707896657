/** jobs/tasks — the registry of task bodies the compute process can run, by job kind. */
import { z } from 'zod';
import { benchmark } from './benchmark';
import type { Task } from './types';

interface TaskEntry {
  params: z.ZodType;
  run: Task<never, never>;
}

export const tasks: Record<string, TaskEntry> = {
  'system.benchmark': {
    params: z.object({ seconds: z.number().positive(), size: z.number().int().positive() }),
    run: benchmark as Task<never, never>,
  },
};
