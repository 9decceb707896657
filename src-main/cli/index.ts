/**
 * cli — the `esm-studio` command, a transport like serve and electron. Project commands (import,
 * projects, datasets, runs, embed/fit on a project) call the app's services through `dispatch`;
 * file commands (convert, embed --fasta, fit --embeddings, score, saturate, finetune, predict)
 * build the app's task parameters and run the same task bodies in this process (jobs/run-here),
 * writing the same files; `worker` runs one task (or one shard of one) from a task file. So the
 * command line and the app cannot disagree.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { FinetuneSettings, PeftMethodName, ValidationMetricName, type SequenceFormat } from '../api/schemas';
import { PEFT_HELP } from './peft-flags';
import { nodeComputeLauncher } from '../jobs/node-launcher';
import { createHost, defaultHome, type Host } from '../services';
import { DEVICES } from '../core/devices';
import { APP_VERSION } from '../core/version';
import { convertCommand, embedCommand, parseIntegers, type EmbedFlags } from './engine-commands';
import { LEARNERS } from '../learn/learners';
import { clusterPlacement } from './cluster-options';
import { clusterCancelCommand, clusterProfilesCommand, clusterResumeCommand, clusterStatusCommand } from './cluster';
import { CliExit, exitWithFailure } from './exit';
import { mergeCommand, workerCommand, type WorkerFlags } from './worker';
import { finetuneCommand, predictCommand, type FinetuneFlags, type PredictFlags } from './finetune';
import { explainCommand, type ExplainFlags } from './explain';
import { fitCommand, type FitFlags } from './fit';
import { call, followJob, projectEmbed } from './project-embed';
import { formatReport } from './report';
import { saturateCommand, scoreCommand, type ScoreFlags } from './variants';

const here = dirname(fileURLToPath(import.meta.url));


function openHost(withRunner = false): Host {
  return createHost({
    home: defaultHome(),
    transport: 'cli',
    launcher: withRunner ? nodeComputeLauncher(join(here, 'compute.js')) : undefined,
  });
}

async function withHost<T>(withRunner: boolean, body: (host: Host) => Promise<T>): Promise<T> {
  const host = openHost(withRunner);
  try {
    return await body(host);
  } finally {
    host.close();
  }
}

interface ImportFlags {
  project: string;
  fasta?: string;
  csv?: string;
  tsv?: string;
  name?: string;
  accept?: boolean;
  sequenceColumn?: string;
  idColumn?: string;
  wildType?: string;
  wildTypeRecord?: string;
  mutationColumn?: string;
  offset?: string;
}

/** `--wild-type` makes the CSV/TSV a mutation scan: rows are mutations of that wild type. */
function mutationOptions(flags: ImportFlags): { wildType: string; wildTypeRecord?: string; column?: string; offset: number } | undefined {
  if (!flags.wildType) {
    if (flags.mutationColumn || flags.offset || flags.wildTypeRecord) throw new CliExit('--mutation-column, --offset and --wild-type-record need --wild-type <fasta>.', 2);
    return undefined;
  }
  let wildType: string;
  try {
    wildType = readFileSync(resolve(flags.wildType), 'utf8');
  } catch {
    throw new CliExit(`Cannot read ${resolve(flags.wildType)}.`);
  }
  const offset = Number(flags.offset ?? 0);
  if (!Number.isInteger(offset) || offset < 0) throw new CliExit('--offset must be a whole number ≥ 0 (the number of the first residue minus 1).', 2);
  return { wildType, wildTypeRecord: flags.wildTypeRecord, column: flags.mutationColumn, offset };
}

function importSource(flags: ImportFlags): { path: string; format: SequenceFormat } {
  const given = (['fasta', 'csv', 'tsv'] as const).filter((format) => flags[format]);
  if (given.length !== 1) throw new CliExit('Give exactly one of --fasta, --csv or --tsv.', 2);
  const format = given[0]!;
  return { path: resolve(flags[format]!), format };
}

async function importCommand(flags: ImportFlags): Promise<void> {
  const { path, format } = importSource(flags);
  await withHost(false, async (host) => {
    const source = { kind: 'path' as const, path };
    const options = { format, sequenceColumn: flags.sequenceColumn, idColumn: flags.idColumn, mutations: mutationOptions(flags) };
    const report = await call(host, 'datasets.preview', { source, options });
    console.log(formatReport(report));
    if (report.errorCount > 0 && !flags.accept) {
      throw new CliExit(`\nNothing was imported: ${report.errorCount} record(s) have errors. Re-run with --accept to import the other ${report.importable}.`, 1);
    }
    const project = host.projects.ensure(flags.project);
    const { dataset } = await call(host, 'datasets.import', { projectId: project.id, name: flags.name, source, options, accept: true });
    console.log(`\nImported ${dataset.sequenceCount} sequences into dataset "${dataset.name}" of project "${project.name}".`);
  });
}

async function listProjects(): Promise<void> {
  await withHost(false, async (host) => {
    const projects = await call(host, 'projects.list', {});
    if (projects.length === 0) console.log('No projects yet. Create one with: esm-studio import --project NAME --fasta FILE');
    for (const p of projects) console.log(`${p.name}\t${p.datasetCount} dataset(s)\t${p.runCount} run(s)`);
  });
}

async function listDatasets(flags: { project: string }): Promise<void> {
  await withHost(false, async (host) => {
    const project = host.store.projects.findByName(flags.project);
    if (!project) throw new CliExit(`No project named "${flags.project}".`);
    for (const d of await call(host, 'datasets.list', { projectId: project.id })) {
      console.log(`${d.name}\t${d.sequenceCount} sequences\t${d.format}\tfrom ${d.sourceFile}`);
    }
  });
}

/** One line per run: id, kind, state, date, title (tab-separated, newest first). */
async function listRuns(flags: { project: string }): Promise<void> {
  await withHost(false, async (host) => {
    const project = host.store.projects.findByName(flags.project);
    if (!project) throw new CliExit(`No project named "${flags.project}".`);
    const runs = [...(await call(host, 'runs.list', { projectId: project.id }))].sort((a, b) => b.id - a.id);
    if (runs.length === 0) {
      console.log(`Project "${project.name}" has no runs yet. Start one with: esm-studio embed --project "${project.name}" --dataset NAME --model MODEL`);
      return;
    }
    console.log('id\tkind\tstate\tcreated\ttitle');
    for (const run of runs) console.log(`${run.id}\t${run.kind}\t${run.state}\t${run.createdAt.slice(0, 16).replace('T', ' ')}\t${run.title}`);
  });
}

async function benchmarkCommand(flags: { project: string; seconds: string }): Promise<void> {
  await withHost(true, async (host) => {
    const project = host.projects.ensure(flags.project);
    const job = await call(host, 'jobs.start', { kind: 'system.benchmark', projectId: project.id, seconds: Number(flags.seconds) });
    const finished = await followJob(host, job);
    if (finished.state !== 'done') throw new CliExit(finished.error ?? `The benchmark ended ${finished.state}.`);
    const run = host.store.runs.get(finished.runId!);
    console.log(`Mean speed: ${String(run?.summary.meanGflops)} GFLOP/s`);
  });
}

async function embedAction(flags: EmbedFlags & { project?: string; dataset?: string }): Promise<void> {
  if (!flags.project) {
    if (!flags.fasta || !flags.out) throw new CliExit('Give --fasta and --out, or --project and --dataset.', 2);
    return embedCommand(flags as EmbedFlags);
  }
  if (!flags.dataset) throw new CliExit('--project needs --dataset <name>.', 2);
  const settings = {
    layers: parseIntegers(flags.layers, '--layers'),
    pool: flags.pool.split(',') as ('mean' | 'bos' | 'max' | 'per-token')[],
    batchTokens: Number(flags.batchTokens),
    device: flags.device as 'cpu',
    threads: Number(flags.threads ?? 0),
    long: flags.long as 'window' | 'truncate',
    cluster: clusterPlacement(flags),
  };
  await withHost(true, (host) => projectEmbed(host, { project: flags.project!, dataset: flags.dataset!, model: flags.model, out: flags.out, settings }));
}

/** `--cluster` and its companions on a command whose task can run as a Slurm job array (`split`: what the shards divide). */
function clusterOptions(command: Command, split: string): Command {
  return command
    .option('--cluster <profile>', 'run as a Slurm job array and merge the result (local-slurm, or a profile of the profiles file); see README, "Running on a cluster"')
    .option('--shards <n>', `with --cluster: array tasks ${split} are split into (default 4)`)
    .option('--job-dir <dir>', 'with --cluster: the job\'s folder, on a filesystem the nodes share (default: .esm-studio-cluster/ beside --out)')
    .option('--retries <n>', 'with --cluster: how often a failed or killed shard is submitted again (default: the profile\'s, 2)')
    .option('--max-at-once <n>', 'with --cluster: at most this many shards run at once (default: the profile\'s, no limit)')
    .option('--keep-job-dir', 'with --cluster: keep the job\'s folder (task, shards\' results, logs, job.json) after the merge');
}

export function buildProgram(): Command {
  const program = new Command('esm-studio')
    .description('ESM Studio: protein language-model transfer learning, offline.\nData is kept in ESM_STUDIO_HOME, else the platform\'s application-data folder.')
    .version(APP_VERSION)
    .option('--debug', 'on an error, also print the JavaScript stack trace (for reporting a bug)')
    .showHelpAfterError();

  program
    .command('import')
    .description('Validate a FASTA or CSV/TSV file and import its sequences as a dataset')
    .requiredOption('--project <name>', 'project to import into (created if missing)')
    .option('--fasta <file>', 'a FASTA file')
    .option('--csv <file>', 'a CSV file with a sequence column and label columns')
    .option('--tsv <file>', 'a TSV file with a sequence column and label columns')
    .option('--name <dataset>', 'dataset name (default: the file name without its extension)')
    .option('--sequence-column <column>', 'CSV/TSV: the column with sequences')
    .option('--id-column <column>', 'CSV/TSV: the column with identifiers')
    .option('--wild-type <fasta>', 'CSV/TSV: a mutation scan of this wild type (rows name mutations such as A23V or A23V:G45D)')
    .option('--wild-type-record <name>', 'with --wild-type: the record to use when the FASTA has several (default: the one the table is named after)')
    .option('--mutation-column <column>', 'with --wild-type: the column with the mutations (default: one named like "mutant")')
    .option('--offset <n>', 'with --wild-type: number of the first residue of the FASTA minus 1')
    .option('--accept', 'import even if some records have errors (those records are skipped)')
    .action(importCommand);

  program.command('projects').description('List projects').action(listProjects);
  program
    .command('datasets')
    .description('List the datasets of a project')
    .requiredOption('--project <name>', 'project name')
    .action(listDatasets);
  program
    .command('runs')
    .description('List the runs of a project: id (for fit --run), kind, state, date and title')
    .requiredOption('--project <name>', 'project name')
    .action(listRuns);
  program
    .command('benchmark')
    .description('Measure this computer\'s compute speed (a job, stored as a run)')
    .requiredOption('--project <name>', 'project to store the run in (created if missing)')
    .addOption(new Option('--seconds <n>', 'how long to measure').default('10'))
    .action(benchmarkCommand);
  program
    .command('convert')
    .description('Convert an ESM-2 or ESM C checkpoint (Hugging Face folder or .safetensors, or ESM C\'s original .pth) into an ONNX model folder')
    .argument('<hf-dir>', 'checkpoint folder (config.json + model.safetensors, or sharded)')
    .requiredOption('--out <model-dir>', 'folder to create for the converted model')
    .option('--fp16', 'store weights in float16 (half the size; LayerNorm, softmax and reductions stay float32)')
    .option('--int8', 'store the linear layers\' weights in int8 (a quarter of the size, about twice as fast on the CPU; embeddings within cosine 0.999 of fp32)')
    .action(convertCommand);
  program
    .command('worker')
    .description('Run one task, or one shard of one, headless (cluster jobs): progress as JSON lines on stdout; started again, it continues')
    .argument('<task.json>', '{ "kind", "params", "input" } as the app\'s jobs have them (e.g. kind "embed.dataset")')
    .option('--shard <i/n>', 'compute only shard i of n (0-based); merge the shards with `esm-studio merge`')
    .option('--work-dir <dir>', 'folder the task writes below (default: the task file\'s workDir, else the current folder)')
    .option('--merge', 'merge the shards of the cluster job whose folder holds <task.json> (its dependent merge step; merges once)')
    .action((taskFile: string, flags: WorkerFlags) => workerCommand(taskFile, flags));
  const cluster = program.command('cluster').description('Cluster jobs (Slurm job arrays): status, cancel, resume; profiles (see README, "Running on a cluster")');
  cluster
    .command('status')
    .description('Tasks pending/running/done/failed, progress and time left of a cluster job; failed shards with the end of their logs')
    .argument('<job>', 'the job\'s folder, or a Slurm array id of it')
    .action((job: string) => clusterStatusCommand(job));
  cluster
    .command('cancel')
    .description('Cancel a cluster job (scancel of its arrays and merge step); finished shards are kept')
    .argument('<job>', 'the job\'s folder, or a Slurm array id of it')
    .action((job: string) => clusterCancelCommand(job));
  cluster
    .command('resume')
    .description('Submit again only the shards of a failed or cancelled cluster job that have no result, follow them and merge')
    .argument('<job>', 'the job\'s folder, or a Slurm array id of it')
    .option('--out <dir>', 'folder for the merged task files (default: result/ in the job\'s folder)')
    .action((job: string, flags: { out?: string }) => clusterResumeCommand(job, flags));
  cluster
    .command('profiles')
    .description('List the cluster profiles: the built-in local-slurm and those of the profiles file')
    .action(() => clusterProfilesCommand());
  program
    .command('merge')
    .description('Merge the work folders of a sharded task (worker --shard) into the files an unsharded run writes')
    .argument('<shard-dirs...>', 'the shards\' work folders, all of 0/n … n-1/n')
    .requiredOption('--out <dir>', 'folder for the merged result')
    .action((dirs: string[], flags: { out: string }) => mergeCommand(dirs, flags));
  program
    .command('embed')
    .description('Embed the sequences of a FASTA file with a model and write NumPy files')
    .requiredOption('--model <dir|name>', 'a converted model folder or a Hugging Face checkpoint folder; with --project also an installed model\'s name')
    .option('--fasta <file>', 'sequences to embed (writes files to --out)')
    .option('--project <name>', 'embed a dataset of this project as a run the app lists (with --dataset)')
    .option('--dataset <name>', 'the dataset to embed (with --project)')
    .option('--out <dir>', 'folder for the .npy files (see README, "Embedding output files"); optional with --project')
    .option('--layers <list>', 'layers, comma-separated: 0 = embeddings, -1 = last', '-1')
    .option('--pool <list>', 'mean, bos, max, per-token (comma-separated)', 'mean')
    .option('--logits', 'also write the language-model logits per sequence')
    .option('--contacts', 'also write predicted contact maps per sequence')
    .option('--attention <layers>', 'also write the attention maps of these layers (comma-separated)')
    .option('--batch-tokens <n>', 'tokens per batch (padded length × sequences)', '8192')
    .addOption(new Option('--device <device>', 'where to compute').choices(DEVICES).default('cpu'))
    .addOption(new Option('--long <mode>', 'sequences longer than the model reads at once (ESM-2: 1022 residues, ESM C: 2046): overlapping windows, or truncation').choices(['window', 'truncate']).default('window'))
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--cluster <profile>', 'run as a Slurm job array and merge the result (profile: local-slurm, Slurm on this machine with SLURM_CONF); see README, "Running on a cluster"')
    .option('--shards <n>', 'with --cluster: array tasks the sequences are split into, by token count (default 4)')
    .option('--job-dir <dir>', 'with --cluster: the job\'s folder, on a filesystem the nodes share (default: .esm-studio-cluster/ beside --out)')
    .option('--retries <n>', 'with --cluster: how often a failed or killed shard is submitted again (default 2)')
    .option('--max-at-once <n>', 'with --cluster: at most this many shards run at once (default: no limit)')
    .option('--keep-job-dir', 'with --cluster: keep the job\'s folder (task, shards\' results, logs, job.json) after the merge')
    .action((flags: EmbedFlags & { project?: string; dataset?: string }) => embedAction(flags));
  program
    .command('fit')
    .description('Cross-validate a learner on embeddings against a label column (predictions.csv, metrics.json, models.json)')
    .option('--embeddings <file.npy>', 'embedding matrix [sequences, features]')
    .option('--ids <ids.txt>', 'one id per line, matching the rows of --embeddings')
    .option('--labels <csv>', 'a CSV/TSV with an id column and label columns')
    .option('--id-col <column>', 'the id column of --labels', 'id')
    .option('--target <column>', 'the label to predict (required unless --annotations); for ovr-logreg, several 0/1 columns, comma-separated (multi-label)')
    .option('--annotations <file>', 'GO / EC terms as the multi-label targets (ovr-logreg): a GAF file, or a CSV/TSV of id and terms (";"-separated); propagated to their ancestors')
    .option('--ontology <go-basic.obo>', 'with --annotations: the GO ontology (OBO) to propagate GO terms along (not needed for EC numbers)')
    .option('--min-count <n>', 'with --annotations: keep terms on at least n proteins', '10')
    .option('--namespace <list>', 'with --annotations: only these of mf, bp, cc, ec (comma-separated)')
    .option('--evidence <codes>', 'with a GAF: experimental (CAFA\'s codes), all, or a comma-separated list such as IDA,IMP', 'all')
    .addOption(new Option('--learner <name>', 'learner').choices(LEARNERS.map((l) => l.id)).makeOptionMandatory())
    .option('--cv <k>', 'number of outer folds', '5')
    .option('--split <scheme>', 'random, stratified, contiguous, modulo, column:<name>, cluster:<identity %>[:<coverage %>] (similar sequences kept in one fold, so the score is not inflated by close relatives), or temporal:<date column>:<YYYY-MM-DD>', 'random')
    .addOption(new Option('--scale <scaling>', 'feature scaling, fitted on training rows only').choices(['standard', 'minmax', 'none']).default('standard'))
    .option('--seed <n>', 'random seed for the folds', '42')
    .requiredOption('--out <dir>', 'folder for predictions.csv, metrics.json and models.json')
    .option('--project <name>', 'use a run of this project instead of files (with --run)')
    .option('--run <id>', 'the run whose embeddings to use')
    .option('--model <name>', 'with --run: the model (when the run used several)')
    .option('--layer <k>', 'with --run: the layer (default: the last one computed)')
    .option('--pool <pooling>', 'with --run: the pooling or compression', 'mean');
  clusterOptions(program.commands.at(-1)!, 'the fits').action((flags: FitFlags) => fitCommand(flags, () => openHost(false)));
  const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
  const zeroShotOptions = (command: Command): Command =>
    command
      .requiredOption('--model <dir>', 'a converted model folder or a Hugging Face checkpoint folder; repeat for an ensemble (mean of the models)', collect)
      .requiredOption('--wt <fasta>', 'the wild-type sequence (a FASTA file)')
      .option('--wild-type-record <name>', 'the record of --wt to use when it has several (score: default, the one the --variants file is named after)')
      .addOption(new Option('--method <method>', 'wt-marginal (one pass), masked-marginal (one pass per mutated position) or pll (pseudo-log-likelihood)').choices(['wt-marginal', 'masked-marginal', 'pll']).default('masked-marginal'))
      .option('--offset <n>', 'number of the first residue of the FASTA minus 1 (mutation numbers are shifted by it)', '0')
      .requiredOption('--out <csv>', 'the CSV to write')
      .addOption(new Option('--device <device>', 'where to compute').choices(DEVICES).default('cpu'))
      .option('--batch-tokens <n>', 'tokens per batch (masked copies × length)', '8192');
  zeroShotOptions(
    program
      .command('score')
      .description('Zero-shot scores of the mutations in a CSV/TSV, in the app\'s export layout (id, mutant, measured columns, score_<model>_<method>)')
      .requiredOption('--variants <csv>', 'a CSV/TSV with a mutation column (A23V, A23V:G45D, p.Ala23Val)')
      .option('--mutation-col <column>', 'the column with the mutations', 'mutant')
      .option('--id-col <column>', 'the column with the row IDs (default: one named id, name, …; else the mutation)')
      .option('--skip-mismatches', 'leave rows whose wild-type residue does not match unscored, instead of stopping'),
  );
  clusterOptions(program.commands.at(-1)!, 'the rows, by mutated position,').action((flags: ScoreFlags) => scoreCommand(flags));
  const d = FinetuneSettings.parse({});
  const deviceOption = (): Option => new Option('--device <device>', 'where to compute').choices(DEVICES).default('cpu');
  program
    .command('finetune')
    .description('Fine-tune a model with LoRA adapters and a head (or, with --head-only, the head alone) on a labelled CSV/TSV; writes the adapter in PEFT format, the head, a merged model, metrics.csv and training.json (see README); run again on the same --out to continue after a stop')
    .requiredOption('--model <dir>', 'a converted model folder or a Hugging Face checkpoint folder')
    .requiredOption('--data <csv>', 'a CSV/TSV with a sequence column and the target column(s)')
    .option('--id-col <column>', 'the id column (rows are numbered when the file has none)', 'id')
    .option('--seq-col <column>', 'the sequence column', 'sequence')
    .option('--target <column>', 'the target column (required, except for --task signal-peptide); several 0/1 columns, comma-separated, for --task multilabel; a string of one class per residue for --task token')
    .addOption(new Option('--task <task>', 'what to predict; signal-peptide: a SignalP 6.0 3-line FASTA as --data, PEFT-SP\'s LoRA + CRF').choices(['regression', 'classification', 'multilabel', 'token', 'signal-peptide']).default(d.task))
    .option('--train-partitions <list>', '--task signal-peptide: partitions to train on', '0')
    .option('--val-partitions <list>', '--task signal-peptide: partitions to pick the best epoch on', '1')
    .option('--test-partitions <list>', '--task signal-peptide: partitions predicted after training (default: those of 0, 1, 2 not used to train or validate; "" for none)')
    .option('--cross-validate', '--task signal-peptide: all six train/validate/test arrangements of partitions 0, 1, 2 (PEFT-SP), in arrangement-1..6, averaged')
    .option('--head-only', 'freeze the whole model and train only the head, on vectors computed once (fast; --lora-* flags unused)')
    .option('--lora-r <r>', 'LoRA rank', String(d.loraR))
    .option('--lora-alpha <alpha>', 'LoRA alpha (the adapters are scaled by alpha / r)', String(d.loraAlpha))
    .option('--lora-dropout <p>', 'dropout on the adapters\' input (0 for an exactly reproducible run)', String(d.loraDropout))
    .option('--lora-targets <list>', 'projections to adapt: query,key,value,attention-output,intermediate,output (or dense) for ESM-2; qkv,attention-output,intermediate,output for ESM C (not given: qkv for an ESM C model)', d.loraTargets.join(','))
    .option('--lora-layers <all|K>', 'adapt all layers or the top K', String(d.loraLayers))
    .addOption(new Option('--peft <method>', PEFT_HELP.peft).choices(PeftMethodName.options).default(d.peft.method))
    .option('--prompt-length <n>', PEFT_HELP.promptLength, String(d.peft.prompt.length))
    .option('--prompt-layers <input|all|K>', PEFT_HELP.promptLayers, String(d.peft.prompt.layers))
    .option('--adapter-size <n>', PEFT_HELP.adapterSize, String(d.peft.adapter.size))
    .option('--adapter-layers <all|K>', PEFT_HELP.adapterLayers, String(d.peft.adapter.layers))
    .addOption(new Option('--head <head>', 'linear, or SWAT\'s Linear → dropout → LayerNorm → Linear').choices(['linear', 'swat']).default(d.head))
    .addOption(new Option('--pool <pool>', 'one vector per protein: mean over residues or the <cls> token').choices(['mean', 'bos']).default(d.pool))
    .addOption(new Option('--class-weight <how>', 'classification, multilabel, token: balanced weighs rare classes (positives) up in the loss').choices(['none', 'balanced']).default(d.classWeight))
    .option('--epochs <n>', 'passes over the training sequences', String(d.epochs))
    .option('--lr <x>', 'learning rate', String(d.lr))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adamw', 'sgd']).default(d.optimizer))
    .option('--momentum <m>', 'SGD momentum', String(d.momentum))
    .option('--weight-decay <w>', 'weight decay (decoupled for AdamW)', String(d.weightDecay))
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule').choices(['constant', 'linear', 'cosine']).default(d.schedule))
    .option('--warmup-ratio <f>', 'fraction of steps of linear warm-up', String(d.warmupRatio))
    .option('--max-grad-norm <x>', 'clip gradients to this global norm')
    .option('--batch-tokens <n>', 'tokens per batch (sequences × longest length)', String(d.batchTokens))
    .option('--val-fraction <f>', 'share of sequences kept for validation', String(d.valFraction))
    .option('--seed <n>', 'random seed (split, init, order, dropout)', String(d.seed))
    .option('--patience <n>', 'stop after this many epochs without a better validation metric')
    .addOption(new Option('--metric <name>', 'validation metric for the best epoch and early stopping').choices(ValidationMetricName.options).default(d.metric))
    .option('--init-adapter <dir>', 'start from this PEFT adapter folder (LoRA shape flags follow its config unless given)')
    .option('--max-steps <n>', 'stop after this many optimizer steps')
    .addOption(deviceOption())
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--no-shuffle', 'keep the data\'s order every epoch (with --lora-dropout 0: exactly reproducible)')
    .requiredOption('--out <dir>', 'folder for the results (adapter, head, merged model; with --head-only the head and head.onnx), metrics.csv, training.json and checkpoints')
    .action((flags: FinetuneFlags, command: Command) => finetuneCommand(flags, command));
  program
    .command('predict')
    .description('Predict with a fine-tuned model (a finetune --out folder) for a FASTA or CSV/TSV; writes a CSV (id, predictions)')
    .requiredOption('--finetuned <dir>', 'the folder a finetune run wrote (--out), or its adapter and head files alone')
    .option('--model <dir>', 'the base model, when the folder has no merged/ (it is built there first) or a head-only run\'s model has moved')
    .option('--fasta <file>', 'sequences to predict')
    .option('--data <csv>', 'or a CSV/TSV with a sequence column')
    .option('--id-col <column>', 'with --data: the id column', 'id')
    .option('--seq-col <column>', 'with --data: the sequence column', 'sequence')
    .option('--batch-tokens <n>', 'tokens per batch', '4096')
    .addOption(deviceOption())
    .option('--kingdom <name>', 'signal-peptide runs: EUKARYA, POSITIVE, NEGATIVE or ARCHAEA, recorded with each protein (PEFT-SP\'s model does not use it)')
    .requiredOption('--out <csv>', 'the CSV to write (a signal-peptide run: a folder for prediction_results.txt, region_output.gff3 and predictions.csv)')
    .action((flags: PredictFlags) => predictCommand(flags));
  program
    .command('explain')
    .description('Why a fine-tuned model predicts what it does for one protein: integrated gradients per residue (a CSV: position, residue, attribution)')
    .requiredOption('--finetuned <dir>', 'the folder a LoRA finetune run wrote (--out)')
    .option('--model <dir>', 'the base model, when the folder has no merged/ (it is built there first)')
    .option('--sequence <residues>', 'the protein, as one-letter residues')
    .option('--fasta <file>', 'or a FASTA file (its first record, or the one named --id)')
    .option('--id <id>', 'with --fasta: the record to explain')
    .option('--target <n>', 'which output to explain: regression output or class/label index (default: output 0, or the predicted class)')
    .addOption(new Option('--baseline <kind>', 'what the residues are compared with').choices(['mask', 'zero']).default('mask'))
    .option('--steps <n>', 'integration steps', '50')
    .addOption(deviceOption())
    .requiredOption('--out <csv>', 'the CSV to write')
    .action((flags: ExplainFlags) => explainCommand(flags));
  clusterOptions(zeroShotOptions(program.command('saturate').description('Zero-shot scores of all 19 × L single mutants of a protein (columns position, wt, mut, score)')), 'the positions').action(
    (flags: ScoreFlags) => saturateCommand(flags),
  );
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => exitWithFailure(error));
