/**
 * bench/support/convert-one — one checkpoint conversion in its own process, so its peak RSS is
 * the converter's alone: `node --import tsx bench/support/convert-one.ts <checkpointDir> <outDir> <fp32|fp16|int8>`.
 * Prints one JSON line: { seconds, peakRssMB }.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertCheckpoint } from '../../src-main/models/installed';

export interface ConvertMeasurement {
  seconds: number;
  peakRssMB: number;
}

const APP_VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

const [source, outDir, precision] = process.argv.slice(2);
if (!source || !outDir || (precision !== 'fp32' && precision !== 'fp16' && precision !== 'int8')) {
  throw new Error('usage: convert-one.ts <checkpointDir> <outDir> <fp32|fp16|int8>');
}
const started = performance.now();
await convertCheckpoint(source, outDir, { precision, appVersion: `${APP_VERSION}-bench` });
const result: ConvertMeasurement = { seconds: (performance.now() - started) / 1000, peakRssMB: process.resourceUsage().maxRSS / 1024 };
console.log(JSON.stringify(result));
