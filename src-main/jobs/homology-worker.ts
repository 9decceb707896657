/**
 * jobs/homology-worker — a worker thread of the similarity split (built as
 * out/main/homology-worker.js): builds its own prefilter index of the sequences it is given, then
 * runs the query chunks its parent sends (learn/homology's relatedPairsOfChunk) and answers each
 * with its related pairs. See jobs/homology-threads for the parent's side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildKmerIndex, DEFAULT_ALIGN, encodeSequence, relatedPairsOfChunk, type RelatedCriteria } from '../learn/homology';

const { sequences, criteria, exhaustive } = workerData as { sequences: string[]; criteria: RelatedCriteria; exhaustive: boolean };
const index = buildKmerIndex(sequences.map(encodeSequence));
parentPort?.on('message', (message: { chunk: number; from: number; to: number } | 'stop') => {
  if (message === 'stop') return void parentPort!.close();
  parentPort!.postMessage({ chunk: message.chunk, result: relatedPairsOfChunk(index, message.from, message.to, criteria, DEFAULT_ALIGN, exhaustive) });
});
