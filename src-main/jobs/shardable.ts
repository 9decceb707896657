/**
 * jobs/shardable — the kinds of task whose units are independent, so that a worker can compute one
 * shard of them (`worker --shard`) and a cluster job array can run them (cluster/). A module of its
 * own, importing nothing at run time: the task bodies, the cluster code and the worker all need
 * it, and they import each other.
 */
import type { TaskKind } from '../api/tasks';

export const SHARDABLE_KINDS: readonly TaskKind[] = ['embed.dataset', 'variants.score', 'variants.saturate', 'learn.scan'];
