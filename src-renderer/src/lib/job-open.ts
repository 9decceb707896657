// lib/job-open — where a job's result is shown: clicking a job in the Jobs panel opens that page
// (in the job's project) with its run selected where the page lists runs.
import { nav, type PageId } from './nav.svelte';
import { projects } from './projects.svelte';
import { runs } from './runs.svelte';
import { variants } from './variants.svelte';
import type { Job } from './types';

const PAGE_OF_KIND: Record<string, PageId> = {
  'system.benchmark': 'runs',
  'embed.dataset': 'runs',
  'embeddings.compress': 'runs',
  'embeddings.export': 'runs',
  'learn.scan': 'runs',
  'learn.predict': 'runs',
  'model.install': 'models',
  'model.download': 'models',
  'map.project': 'map',
  'structure.inspect': 'structure',
  'variants.score': 'variants',
  'variants.saturate': 'variants',
  'train.finetune': 'training',
  'train.import': 'training',
  'train.predict': 'training',
};

/** The page that shows the job's result, or null for kinds no page shows. */
export function resultPage(job: Pick<Job, 'kind'>): PageId | null {
  return PAGE_OF_KIND[job.kind] ?? null;
}

export function openJobResult(job: Job): void {
  const page = resultPage(job);
  if (!page) return;
  if (job.projectId !== null && projects.currentId !== job.projectId) projects.open(job.projectId);
  nav.go(page);
  if (job.runId === null) return;
  if (page === 'runs') runs.select(job.runId);
  if (page === 'variants') variants.select(job.runId);
}
