/**
 * cluster/profiles — where a cluster job runs and how. The built-in `local-slurm` profile needs no
 * configuration: this machine is a Slurm login node (sbatch, squeue, scancel on PATH), SLURM_CONF
 * comes from the environment, and a node starts workers with this same Node and install (the work
 * folder must be on a filesystem the nodes share, as a project folder on a login node is).
 * Further profiles (and settings for `local-slurm` itself: partition, account, …) come from a
 * JSON file, `$ESM_STUDIO_CLUSTERS` or `clusters.json` in ESM Studio's data folder, checked
 * with zod; each profile's `kind` picks its schema (a discriminated union: Slurm over SSH joins it
 * as another kind), and a wrong field is reported with the file and the field's path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defaultHome } from '../store/paths';
import type { SlurmClient } from './slurm';
import { SshTargetFields, sshJobFolder, sshShell, type RemoteJobFolder } from './ssh';

/** How the nodes start `esm-studio`: an installed copy run by a Node, or a container image. */
const Launcher = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('install'),
    /** The Node binary on the nodes (Node 22+). */
    node: z.string().min(1).default('node'),
    /** The installed package's folder (holding bin/esm-studio.js), or bin/esm-studio.js itself. */
    install: z.string().min(1),
  }).strict(),
  z.object({
    type: z.literal('apptainer'),
    image: z.string().min(1),
    /** Folders to bind into the container (`--bind`), e.g. the shared work folder. */
    bind: z.array(z.string().min(1)).default([]),
    apptainer: z.string().min(1).default('apptainer'),
  }).strict(),
]);
export type LauncherConfig = z.output<typeof Launcher>;

/** Slurm's time formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
const SLURM_TIME = /^(\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2})$/;

/** What every Slurm profile can set; all optional (Slurm's own defaults apply). */
export const SlurmSettings = {
  partition: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  qos: z.string().min(1).optional(),
  gpusPerTask: z.number().int().min(0).optional(),
  cpusPerTask: z.number().int().min(1).optional(),
  /** Memory per task, in Slurm's notation: 16G, 8000M. */
  memory: z.string().regex(/^\d+[KMGT]?$/i, 'write memory as Slurm does, e.g. 16G or 8000M').optional(),
  timeLimit: z.string().regex(SLURM_TIME, 'write a time limit as Slurm does, e.g. 90, 02:00:00 or 1-12:00:00').optional(),
  /** At most this many array tasks at once (sbatch's `%K`); 0: no limit. */
  maxAtOnce: z.number().int().min(0).default(0),
  retries: z.number().int().min(0).max(20).default(2),
  /** Further `#SBATCH` options, one per entry, e.g. "--constraint=a100". */
  extraSbatch: z.array(z.string().regex(/^--?[A-Za-z]/, 'each extra #SBATCH line is an option, e.g. "--constraint=a100"')).default([]),
  launcher: Launcher.optional(),
  pollSeconds: z.number().positive().max(600).default(5),
};

export const LocalSlurmConfig = z.object({ kind: z.literal('local-slurm'), slurmConf: z.string().min(1).optional(), ...SlurmSettings }).strict();

/**
 * Slurm over SSH (cluster/ssh): the login node's address and account, the work folder there, and
 * how the nodes start esm-studio there (required: this install is not on the cluster).
 */
export const SshSlurmConfig = z.object({ kind: z.literal('ssh'), ...SshTargetFields.shape, ...SlurmSettings, launcher: Launcher }).strict();

/** One profile in the file; each kind is one member of this union. */
export const ClusterProfileConfig = z.discriminatedUnion('kind', [LocalSlurmConfig, SshSlurmConfig]);
export type ClusterProfileConfig = z.output<typeof ClusterProfileConfig>;

export const ClustersFile = z.object({
  profiles: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a profile name is letters, digits, ".", "_" or "-"'), ClusterProfileConfig),
}).strict();

export interface ClusterProfile extends SlurmClient {
  name: string;
  kind: ClusterProfileConfig['kind'];
  /** Set (ssh): the job folder is mirrored on the cluster, where the nodes read and write it; unset: the nodes see this machine's files. */
  remoteFolder?(jobDir: string): RemoteJobFolder;
  /** How a node starts `esm-studio`: a program and its first arguments (e.g. node + bin/esm-studio.js). */
  launcher: string[];
  partition: string | null;
  account?: string | null;
  qos?: string | null;
  gpusPerTask?: number | null;
  memory?: string | null;
  timeLimit?: string | null;
  /** At most this many array tasks at once (sbatch's `%K`); 0: no limit. */
  maxAtOnce: number;
  /** How often a failed or killed task is submitted again before the job fails. */
  retries: number;
  cpusPerTask: number | null;
  /** Further sbatch options, one per entry (e.g. `--constraint=a100`). */
  extraSbatch: string[];
  /** Seconds between two looks at the array (squeue and the tasks' logs). */
  pollSeconds: number;
}

export const BUILT_IN_PROFILES = ['local-slurm'] as const;
/** @deprecated the built-in names; `listClusterProfiles()` lists the configured ones too. */
export const PROFILE_NAMES = BUILT_IN_PROFILES;

/** This package's bin/esm-studio.js, found upwards from this module (out/main/, out/main/chunks/ or src-main/cluster/). */
function thisInstallBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const bin = join(dir, 'bin', 'esm-studio.js');
    if (existsSync(bin)) return bin;
  }
  throw new Error(`Cannot find bin/esm-studio.js above ${fileURLToPath(import.meta.url)}: the cluster's nodes start ESM Studio with it.`);
}

/** How a node starts this same install: this Node and this package's bin/esm-studio.js. Under Electron, its binary runs as plain Node. */
export function thisInstallLauncher(): string[] {
  const bin = thisInstallBin();
  return process.versions.electron ? ['env', 'ELECTRON_RUN_AS_NODE=1', process.execPath, bin] : [process.execPath, bin];
}

/** The command line that starts `esm-studio` on the nodes, from a profile's launcher setting. */
export function launcherCommand(launcher: LauncherConfig | undefined): string[] {
  if (!launcher) return thisInstallLauncher();
  if (launcher.type === 'install') return [launcher.node, launcher.install.endsWith('.js') ? launcher.install : join(launcher.install, 'bin', 'esm-studio.js')];
  return [launcher.apptainer, 'exec', ...launcher.bind.flatMap((folder) => ['--bind', folder]), launcher.image, 'esm-studio'];
}

export interface LocalSlurmOptions {
  /** The launcher on the nodes; by default this install (`thisInstallLauncher`). */
  launcher?: string[];
  env?: NodeJS.ProcessEnv;
  maxAtOnce?: number;
  retries?: number;
  /** Settings from the profiles file. */
  config?: Omit<z.output<typeof LocalSlurmConfig>, 'kind'>;
}

/** Slurm's own default configuration file, used when SLURM_CONF is not set. */
const SYSTEM_SLURM_CONF = '/etc/slurm/slurm.conf';

export function localSlurmProfile(options: LocalSlurmOptions = {}, name = 'local-slurm'): ClusterProfile {
  const env = { ...(options.env ?? process.env) };
  const config = options.config;
  if (config?.slurmConf) env.SLURM_CONF = config.slurmConf;
  if (!env.SLURM_CONF && !existsSync(SYSTEM_SLURM_CONF)) {
    throw new Error(`The ${name} profile needs Slurm's configuration: set SLURM_CONF to the cluster's slurm.conf (there is no ${SYSTEM_SLURM_CONF} on this machine).`);
  }
  return {
    name,
    kind: 'local-slurm',
    env,
    launcher: options.launcher ?? launcherCommand(config?.launcher),
    partition: config?.partition ?? null,
    account: config?.account ?? null,
    qos: config?.qos ?? null,
    gpusPerTask: config?.gpusPerTask ?? null,
    memory: config?.memory ?? null,
    timeLimit: config?.timeLimit ?? null,
    maxAtOnce: options.maxAtOnce ?? config?.maxAtOnce ?? 0,
    retries: options.retries ?? config?.retries ?? 2,
    cpusPerTask: config?.cpusPerTask ?? null,
    extraSbatch: config?.extraSbatch ?? [],
    // The built-in profile looks every second (a login node's squeue is cheap); a configured one as it says.
    pollSeconds: config ? config.pollSeconds : 1,
  };
}

/** The profiles file: $ESM_STUDIO_CLUSTERS, else clusters.json in ESM Studio's data folder. */
export function profilesFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.ESM_STUDIO_CLUSTERS ?? join(defaultHome(process.platform, env), 'clusters.json');
}

/** The profiles of the file (none when there is no file); a wrong file is an error naming it and the field. */
export function readProfilesFile(file: string = profilesFile()): Record<string, ClusterProfileConfig> {
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: cannot read it as JSON (${(error as Error).message}).`, { cause: error });
  }
  const parsed = ClustersFile.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'the file'}: ${issue.message}`);
    throw new Error(`${file}: ${problems.join('; ')}. See README, "Running on a cluster", for the fields of a profile.`);
  }
  return parsed.data.profiles;
}

/** Every profile there is: the built-in ones and the file's (which may also set local-slurm's settings). */
export function listClusterProfiles(env: NodeJS.ProcessEnv = process.env): { name: string; kind: ClusterProfileConfig['kind']; builtIn: boolean }[] {
  const configured = readProfilesFile(profilesFile(env));
  const names = [...new Set([...BUILT_IN_PROFILES, ...Object.keys(configured)])];
  return names.map((name) => ({ name, kind: configured[name]?.kind ?? 'local-slurm', builtIn: (BUILT_IN_PROFILES as readonly string[]).includes(name) }));
}

/** Slurm over SSH (cluster/ssh): the commands run on the login node; the job folder and models are copied there. */
export function sshProfile(name: string, config: Omit<z.input<typeof SshSlurmConfig>, 'kind'>): ClusterProfile {
  const settings = SshSlurmConfig.parse({ ...config, kind: 'ssh' });
  const target = SshTargetFields.parse(settings);
  return {
    name,
    kind: 'ssh',
    env: process.env,
    shell: sshShell(target),
    remoteFolder: (jobDir) => sshJobFolder(target, jobDir),
    launcher: launcherCommand(settings.launcher),
    partition: settings.partition ?? null,
    account: settings.account ?? null,
    qos: settings.qos ?? null,
    gpusPerTask: settings.gpusPerTask ?? null,
    memory: settings.memory ?? null,
    timeLimit: settings.timeLimit ?? null,
    maxAtOnce: settings.maxAtOnce,
    retries: settings.retries,
    cpusPerTask: settings.cpusPerTask ?? null,
    extraSbatch: settings.extraSbatch,
    pollSeconds: settings.pollSeconds,
  };
}

/** Builds a profile of the file; one function per kind. */
function fromConfig(name: string, config: ClusterProfileConfig, options: LocalSlurmOptions): ClusterProfile {
  switch (config.kind) {
    case 'local-slurm':
      return localSlurmProfile({ ...options, config }, name);
    case 'ssh':
      return sshProfile(name, config);
  }
}

/** The profile called `name`: one of the profiles file, else a built-in one. */
export function clusterProfile(name: string, options: LocalSlurmOptions = {}): ClusterProfile {
  const env = options.env ?? process.env;
  const file = profilesFile(env);
  const configured = readProfilesFile(file);
  const config = configured[name];
  if (config) return fromConfig(name, config, options);
  if (name === 'local-slurm') return localSlurmProfile(options);
  const names = [...new Set([...BUILT_IN_PROFILES, ...Object.keys(configured)])];
  throw new Error(`There is no cluster profile "${name}"; the profiles are: ${names.join(', ')} (more can be defined in ${file}).`);
}
