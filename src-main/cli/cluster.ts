/**
 * cli/cluster — `esm-studio cluster status|cancel|resume <job>` and `cluster profiles`: a cluster
 * job named by its folder or by a Slurm array id of it, through the same functions the app uses
 * (cluster/follow). `resume` submits again only the shards without a finished result, follows the
 * array and merges; a project's job is resumed by running its command again (or in the app), which
 * records the merged result in the project as well.
 */
import { join, resolve } from 'node:path';
import { ArrayJobCancelled, ArrayJobFailed, readRecord } from '../cluster/array-job';
import { cancelClusterJob, clusterJobStatus, followClusterJob, type ClusterJobView } from '../cluster/follow';
import { listClusterProfiles, profilesFile } from '../cluster/profiles';
import { findClusterJob } from '../cluster/registry';
import { describeShards } from '../cluster/run-sharded';
import { describeTimeLeft } from '../cluster/view';
import { endProgress, interruptible, progressLine } from './engine-commands';
import { CliExit } from './exit';

function jobFolder(job: string): string {
  try {
    return findClusterJob(job);
  } catch (error) {
    throw new CliExit((error as Error).message, 2);
  }
}

/** The status as lines: a headline, the counts by state, one line per shard, failed shards' log tails. */
export function statusLines(view: ClusterJobView): string[] {
  const count = (state: string): number => view.shards.filter((s) => s.state === state).length;
  const lines = [
    `Cluster job ${view.jobDir}: ${view.kind} on ${view.profile} (array${view.arrays.length === 1 ? '' : 's'} ${view.arrays.join(', ')})`,
    `State: ${view.state}, ${(view.fraction * 100).toFixed(0)} % done${view.state === 'running' ? `, ${describeTimeLeft(view.secondsLeft)}` : ''}`,
    `Tasks: ${count('pending')} pending, ${count('running')} running, ${count('done')} done, ${count('failed')} failed`,
    ...view.shards.map((s) => `  shard ${s.shard}: ${s.state}${s.state === 'running' ? ` ${(s.fraction * 100).toFixed(0)} %` : ''}, attempt ${s.attempts}${s.why && s.state !== 'done' ? ` (${s.why})` : ''}`),
  ];
  for (const failed of view.failed) lines.push(`End of shard ${failed.shard}'s log:`, ...failed.logTail.split('\n').map((line) => `  ${line}`));
  return lines;
}

export async function clusterStatusCommand(job: string): Promise<void> {
  const jobDir = jobFolder(job);
  const view = await clusterJobStatus(jobDir).catch((error: unknown) => {
    throw new CliExit((error as Error).message);
  });
  console.log(statusLines(view).join('\n'));
}

export async function clusterCancelCommand(job: string): Promise<void> {
  const jobDir = jobFolder(job);
  await cancelClusterJob(jobDir).catch((error: unknown) => {
    throw new CliExit((error as Error).message);
  });
  console.log(`Cancelled the cluster job in ${jobDir} (scancel of its arrays); its finished shards are kept. \`esm-studio cluster resume ${jobDir}\` continues it.`);
}

export async function clusterResumeCommand(job: string, flags: { out?: string }): Promise<void> {
  const jobDir = jobFolder(job);
  const record = readRecord(jobDir);
  if (record.origin === 'project') {
    throw new CliExit(`The cluster job in ${jobDir} is a project's run: run the same \`esm-studio embed --project …\` command again, or Resume it in the app's Jobs panel, so the project records the result.`, 2);
  }
  // A command's own folder is gone once it stopped: the result goes to --out, else into the job's folder.
  const out = resolve(flags.out ?? join(jobDir, 'result'));
  const interrupt = interruptible();
  try {
    const result = await followClusterJob(jobDir, {
      workDir: out,
      signal: interrupt.signal,
      onStatus: (view) => progressLine(view.fraction, describeShards(view.shards)),
    });
    endProgress();
    console.log(`Merged the ${record.shards} shards of ${record.kind} into ${out}.`);
    const notes = result.summary.notes;
    if (Array.isArray(notes)) for (const note of notes) console.error(String(note));
  } catch (error) {
    endProgress();
    if (interrupt.signal.aborted) throw new CliExit(`Stopped following; the array was cancelled (scancel). \`esm-studio cluster resume ${jobDir}\` continues it.`, 130);
    if (error instanceof ArrayJobFailed) throw new CliExit(error.message);
    if (error instanceof ArrayJobCancelled) throw new CliExit(error.message, 130);
    throw new CliExit((error as Error).message);
  } finally {
    interrupt.done();
  }
}

export function clusterProfilesCommand(): void {
  let profiles;
  try {
    profiles = listClusterProfiles();
  } catch (error) {
    throw new CliExit((error as Error).message);
  }
  for (const profile of profiles) console.log(`${profile.name}\t${profile.kind}${profile.builtIn ? '\tbuilt in' : ''}`);
  console.log(`(profiles file: ${profilesFile()})`);
}
