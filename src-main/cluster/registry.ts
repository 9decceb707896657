/**
 * cluster/registry — which job folder a Slurm array id belongs to, so that `esm-studio cluster
 * status|cancel|resume` take either the folder or an id Slurm shows (squeue). One line per array
 * submitted, appended to cluster-jobs.jsonl in ESM Studio's data folder; a lost or unreadable
 * registry costs only the look-up by id (the folder always works).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defaultHome } from '../store/paths';

const registryFile = (env: NodeJS.ProcessEnv = process.env): string => join(defaultHome(process.platform, env), 'cluster-jobs.jsonl');

export function rememberArray(jobDir: string, arrayId: string): void {
  try {
    const file = registryFile();
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${JSON.stringify({ id: arrayId, jobDir: resolve(jobDir), at: new Date().toISOString() })}\n`);
  } catch {
    // a read-only data folder: look-ups by id will not find this job, its folder still works
  }
}

/** The job folder for a folder path or an array id (`123`, or a task's `123_4`). */
export function findClusterJob(jobOrId: string): string {
  if (existsSync(join(jobOrId, 'job.json'))) return resolve(jobOrId);
  const id = /^(\d+)(_\d+)?$/.exec(jobOrId.trim())?.[1];
  const file = registryFile();
  if (id && existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n').reverse()) {
      try {
        const entry = JSON.parse(line) as { id: string; jobDir: string };
        if (entry.id === id && existsSync(join(entry.jobDir, 'job.json'))) return entry.jobDir;
      } catch {
        // an empty or cut line
      }
    }
  }
  throw new Error(`"${jobOrId}" is neither a cluster job's folder (one holding job.json) nor the array id of a job submitted from this account${id ? ` (looked in ${file})` : ''}.`);
}
