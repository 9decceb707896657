// lib/cluster.svelte — cluster jobs in the renderer: the profiles "Where to run" offers (loaded
// once), each project's remembered choice (its default for the next run), and a job's array as
// the back end reads it from the job's folder (api/cluster).
import { api } from './transport';
import { readSetting, writeSetting } from './storage';
import type { Output } from '../../../src-main/api/contract';

export type ClusterProfileInfo = Output<'cluster.profiles'>[number];
export type ClusterJobView = NonNullable<Output<'jobs.cluster'>>;
export type ClusterShardView = ClusterJobView['shards'][number];

/** Where a job runs: null for this computer. */
export interface Placement {
  profile: string;
  shards: number;
}

class ClusterProfiles {
  list = $state<ClusterProfileInfo[]>([]);
  loaded = $state(false);
  /** Why the list could not be read (e.g. a wrong profiles file), for the form to show. */
  error = $state<string | null>(null);

  async load(): Promise<void> {
    try {
      this.list = await api.call('cluster.profiles', {});
      this.error = null;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.loaded = true;
    }
  }
}

export const clusterProfiles = new ClusterProfiles();

const settingKey = (projectId: number): string => `runWhere.${projectId}`;

/** The project's default placement: the last one chosen in it (this computer when none was). */
export function projectPlacement(projectId: number): Placement | null {
  try {
    const value = JSON.parse(readSetting(settingKey(projectId)) ?? 'null') as Placement | null;
    return value && typeof value.profile === 'string' && Number.isInteger(value.shards) ? value : null;
  } catch {
    return null;
  }
}

export function rememberPlacement(projectId: number, placement: Placement | null): void {
  writeSetting(settingKey(projectId), placement ? JSON.stringify(placement) : null);
}

export const fetchClusterJob = (id: number): Promise<ClusterJobView | null> => api.call('jobs.cluster', { id });
