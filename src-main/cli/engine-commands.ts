/**
 * cli/engine-commands — `convert` and `embed`: checkpoints to ONNX models, and FASTA files to
 * NumPy arrays. They run the app's tasks (model.install, embed.dataset) in the CLI's own process
 * (a terminal has no UI to block).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiError } from '../api/errors';
import { TASK_SUMMARIES } from '../api/tasks';
import { parseSequenceFile, requireValidFile } from '../datasets';
import { familyOfManifest, MANIFEST_FILE, readManifest } from '../models/installed';
import { FAMILIES } from '../models/registry';
import { resolveLayers, type LongMode } from '../engine/embed';
import { EmbeddingOutputFolder } from '../engine/output-files';
import { runTaskHere } from '../jobs/run-here';
import { DEVICES, type Device } from '../core/devices';
import { APP_VERSION } from '../core/version';
import { defaultHome, homeLayout } from '../services';
import { clusterRunner, type ClusterFlags } from './cluster-options';
import { CliExit } from './exit';


let lastTenth = -1;

/** One updating line in a terminal; in a log (not a terminal), a line every 10 %. */
export function progressLine(fraction: number, message: string): void {
  const line = `${(fraction * 100).toFixed(0).padStart(3)}%  ${message}`;
  if (process.stderr.isTTY) {
    process.stderr.write(`\r${line.padEnd(90).slice(0, 100)}`);
    return;
  }
  const tenth = Math.floor(fraction * 10);
  if (tenth === lastTenth) return;
  lastTenth = tenth;
  process.stderr.write(`${line}\n`);
}

export function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
  lastTenth = -1;
}

/** Ctrl-C asks the running command to stop cleanly (no half-written files) instead of killing it. */
export function interruptible(): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  const onInterrupt = (): void => {
    process.stderr.write('\nStopping…\n');
    controller.abort();
  };
  process.once('SIGINT', onInterrupt);
  return { signal: controller.signal, done: () => process.off('SIGINT', onInterrupt) };
}

export async function convertCommand(source: string, flags: { out: string; fp16?: boolean; int8?: boolean }): Promise<void> {
  if (flags.fp16 && flags.int8) throw new CliExit('Choose one of --fp16 and --int8, not both.', 2);
  const started = performance.now();
  const interrupt = interruptible();
  const targetDir = resolve(flags.out);
  try {
    // The app's model.install task, run here: the same converted folder for the same checkpoint.
    await runTaskHere('model.install', { source: resolve(source), targetDir, precision: flags.int8 ? 'int8' : flags.fp16 ? 'fp16' : 'fp32', catalogId: null }, null, process.cwd(), {
      signal: interrupt.signal,
      onProgress: progressLine,
    });
  } catch (error) {
    if (interrupt.signal.aborted) throw new CliExit('Conversion cancelled; nothing was written.', 130);
    throw error;
  } finally {
    interrupt.done();
  }
  endProgress();
  const manifest = readManifest(targetDir);
  const c = manifest.config;
  console.log(`Converted ${manifest.name} (${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads, ${manifest.precision}) into ${targetDir} in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  if (manifest.source.tiedDecoder) console.log('The checkpoint has no lm_head.decoder.weight; the word embeddings were used (they are tied in ESM-2).');
  if (manifest.source.ignoredKeys.length > 0) console.log(`Ignored tensors the model does not use: ${manifest.source.ignoredKeys.join(', ')}`);
}

/** A converted model folder as given, or a Hugging Face folder converted once into the app's cache. */
export async function modelFolder(model: string): Promise<string> {
  const dir = resolve(model);
  if (existsSync(join(dir, MANIFEST_FILE))) return dir;
  // A checkpoint any family reads: a Hugging Face folder or file, or ESM C's .pth / esm-package files.
  if (!existsSync(join(dir, 'config.json')) && !dir.endsWith('.safetensors') && !FAMILIES.some((family) => family.recognises(dir))) {
    throw new CliExit(`${dir} is neither a converted model (manifest.json) nor a model checkpoint (a Hugging Face folder with config.json, a .safetensors file, or an ESM C .pth file).`);
  }
  const files = existsSync(dir) && statSync(dir).isFile() ? [dir] : ['config.json', 'model.safetensors', 'model.safetensors.index.json'].map((name) => join(dir, name));
  const stamp = files
    .filter((file) => existsSync(file))
    .map((file) => `${file}:${statSync(file).size}:${statSync(file).mtimeMs}`)
    .join('|');
  const key = createHash('sha256').update(`${dir}|${stamp}|${APP_VERSION}`).digest('hex').slice(0, 16);
  const cached = join(homeLayout(defaultHome()).models, 'converted', key);
  if (!existsSync(join(cached, MANIFEST_FILE))) {
    console.error(`Converting ${dir} once (kept in ${cached}) …`);
    await runTaskHere('model.install', { source: dir, targetDir: cached, precision: 'fp32', catalogId: null }, null, process.cwd(), { signal: new AbortController().signal, onProgress: progressLine });
    endProgress();
  }
  return cached;
}

export function parseList<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new CliExit(`Unknown ${what} "${item}"; choose from ${allowed.join(', ')}.`, 2);
  }
  return items as T[];
}

/**
 * `--layers 6,-1` on a 6-layer model names one layer twice (−1 is the last): say so, instead of
 * computing it once and leaving the user to wonder where the second matrix went.
 */
export function checkDistinctLayers(given: readonly number[], numLayers: number, flag: string): void {
  const seen = new Map<number, number>();
  for (const layer of given) {
    const resolved = layer < 0 ? numLayers + 1 + layer : layer;
    const earlier = seen.get(resolved);
    if (earlier !== undefined) {
      const which = resolved === numLayers ? `layer ${numLayers}, the last` : `layer ${resolved}`;
      const names = earlier === layer ? `${layer} is given twice` : `${earlier} and ${layer} are the same layer`;
      throw new CliExit(`${flag}: ${names} of this ${numLayers}-layer model (${which}); give it once.`, 2);
    }
    seen.set(resolved, layer);
  }
}

export function parseIntegers(value: string | undefined, what: string): number[] {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return items.map((item) => {
    const n = Number(item);
    if (!Number.isInteger(n)) throw new CliExit(`${what} must be whole numbers separated by commas; "${item}" is not.`, 2);
    return n;
  });
}

export interface EmbedFlags extends ClusterFlags {
  model: string;
  fasta: string;
  out: string;
  layers: string;
  pool: string;
  logits?: boolean;
  contacts?: boolean;
  attention?: string;
  batchTokens: string;
  device: string;
  long: string;
  threads?: string;
}

/**
 * A FASTA file's IDs and sequences (embed, predict): a file with bad records is refused by the
 * import's own check (datasets' requireValidFile), naming the file, record, position and letter.
 */
export function readFasta(file: string): { ids: string[]; sequences: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliExit(`Cannot read ${file}.`);
  }
  try {
    const parsed = requireValidFile(file, parseSequenceFile(file, text, { format: 'fasta' }));
    return { ids: parsed.records.map((r) => r.seqId), sequences: parsed.records.map((r) => r.sequence) };
  } catch (error) {
    if (error instanceof ApiError) throw new CliExit(error.message);
    throw error;
  }
}

/**
 * `embed --fasta … --out`: the app's embedding task (embed.dataset) on a FASTA file, in this
 * process, writing the same files as an app run into a staging folder that becomes `--out` when
 * the run completes (engine/output-files).
 */
export async function embedCommand(flags: EmbedFlags): Promise<void> {
  const device = parseList(flags.device, DEVICES, 'device')[0] ?? 'cpu';
  const long = parseList(flags.long, ['window', 'truncate'] as const, '--long mode')[0] ?? 'window';
  const pool = parseList(flags.pool, ['mean', 'bos', 'max', 'per-token'] as const, 'pooling');
  const batchTokens = Number(flags.batchTokens);
  if (!Number.isInteger(batchTokens) || batchTokens < 1) throw new CliExit('--batch-tokens must be a positive whole number.', 2);
  const { ids, sequences } = readFasta(resolve(flags.fasta));

  const dir = await modelFolder(flags.model);
  const manifest = readManifest(dir);
  const config = manifest.config;
  let layers: number[];
  let attentionLayers: number[];
  try {
    layers = resolveLayers(parseIntegers(flags.layers, '--layers'), config.numLayers);
    attentionLayers = resolveLayers(parseIntegers(flags.attention, '--attention'), config.numLayers);
    checkDistinctLayers(parseIntegers(flags.layers, '--layers'), config.numLayers, '--layers');
    checkDistinctLayers(parseIntegers(flags.attention, '--attention'), config.numLayers, '--attention');
  } catch (error) {
    throw new CliExit((error as Error).message, 2);
  }
  if (attentionLayers.includes(0)) throw new CliExit('--attention takes layers 1 to ' + config.numLayers + ' (layer 0 has no attention).', 2);

  const options = { layers, pool, logits: !!flags.logits, contacts: !!flags.contacts, attentionLayers, batchTokens, long: long as LongMode };
  const params = {
    runDir: '.',
    models: [{ id: 0, name: manifest.name, dir, outDir: '.' }],
    ...options,
    device: device as Device,
    threads: flags.threads ? Number(flags.threads) : 0,
  };
  const cluster = clusterRunner(flags, flags.out);
  const output = new EmbeddingOutputFolder(resolve(flags.out));
  const interrupt = interruptible();
  const input = { sequences, shard: null };
  const hooks = { signal: interrupt.signal, onProgress: progressLine };
  try {
    const summary = await output.fill(async () =>
      cluster ? TASK_SUMMARIES['embed.dataset'].parse(await cluster('embed.dataset', params, input, output.staging, hooks)) : runTaskHere('embed.dataset', params, input, output.staging, hooks),
    );
    endProgress();
    const maxResidues = familyOfManifest(manifest).tokenizer.maxResidues;
    const longSequences = sequences.flatMap((sequence, index) =>
      sequence.length > maxResidues ? [{ index, id: ids[index]!, residues: long === 'truncate' ? maxResidues : sequence.length, handling: long }] : [],
    );
    const tokens = summary.tokens ?? 0;
    output.finish(ids, {
      appVersion: APP_VERSION,
      createdAt: new Date().toISOString(),
      model: { name: manifest.name, folder: dir, precision: manifest.precision, sourceChecksum: manifest.source.checksum, config },
      input: { fasta: resolve(flags.fasta), sequences: sequences.length },
      options: { ...options, device: { requested: device, used: summary.deviceUsed ?? device, notes: summary.notes ?? [] } },
      timings: { seconds: summary.seconds, tokens, tokensPerSecond: tokens / summary.seconds },
      longSequences,
    });
    for (const note of summary.notes ?? []) console.error(note);
    console.log(`Embedded ${sequences.length} sequences in ${summary.seconds.toFixed(1)} s (${(tokens / summary.seconds).toFixed(0)} tokens/s on ${summary.deviceUsed ?? device}) into ${resolve(flags.out)}.`);
  } catch (error) {
    output.abort();
    if (interrupt.signal.aborted) throw new CliExit('Embedding cancelled; no result files were kept.', 130);
    if (error instanceof RangeError || error instanceof ApiError) throw new CliExit(error.message);
    throw error;
  } finally {
    interrupt.done();
  }
}
