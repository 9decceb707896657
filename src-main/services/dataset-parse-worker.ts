/**
 * services/dataset-parse-worker — the worker thread that reads and parses one large sequence file
 * for services/dataset-parser (built as out/main/dataset-parse-worker.js), then ends. Answers
 * the report and the records packed flat, or the error that the main thread rethrows as it is.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ApiError } from '../api/errors';
import { packRecords, readAndParse, type ParseReply, type ParseRequest } from './dataset-parser';

function parseOnce(request: ParseRequest): ParseReply {
  try {
    const parsed = readAndParse(request.source, request.options);
    return { report: parsed.report, records: request.want === 'records' ? packRecords(parsed.records) : null };
  } catch (error) {
    if (error instanceof ApiError) return { error: error.toBody() };
    return { error: { message: error instanceof Error ? error.message : String(error) } };
  }
}

parentPort?.postMessage(parseOnce(workerData as ParseRequest));
