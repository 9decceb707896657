/**
 * datasets/ontology — GO and EC function labels done the way CAFA scores them: the OBO ontology
 * (obo.ts), annotation files (GAF or a protein → terms table, annotations.ts), EC numbers
 * (ec.ts), the true-path propagation (propagate.ts) and the multi-hot label matrix with its
 * minimum-count filter (label-matrix.ts). `readLabelMatrix` strings them together for the CLI
 * and the Data page. Pure text in, data out: callers read the files.
 */
import { ApiError } from '../../api/errors';
import { baseName } from '../text';
import { readAnnotationTable, readGaf, type AnnotationFile, type GafOptions } from './annotations';
import { buildLabelMatrix, type LabelMatrix, type LabelMatrixOptions } from './label-matrix';
import { parseObo, type Ontology } from './obo';
import { propagateAnnotations } from './propagate';

export { EXPERIMENTAL_EVIDENCE, readAnnotationTable, readGaf, type Annotation, type AnnotationFile } from './annotations';
export { EC_NAMESPACE, ecAncestors, parseEcNumber } from './ec';
export { DEFAULT_MIN_COUNT, buildLabelMatrix, type LabelMatrix, type LabelMatrixOptions } from './label-matrix';
export { parseObo, type Ontology, type OntologyTerm } from './obo';
export { goAncestors, propagateAnnotations, type PropagatedAnnotations } from './propagate';

/** GAF when the name says so (.gaf, .gaf.gz already unpacked) or the text starts with "!gaf-version"; else a table. */
export function readAnnotations(path: string, text: string, options: GafOptions = {}): AnnotationFile {
  return /\.gaf$/i.test(path) || /^\uFEFF?!gaf-version/.test(text) ? readGaf(path, text, options) : readAnnotationTable(path, text);
}

export interface AnnotationSources {
  annotations: { path: string; text: string };
  /** The ontology; may be absent when every term is an EC number. */
  ontology: { path: string; text: string } | null;
}

/** GO's downloads come gzipped (goa_human.gaf.gz); read as text they are noise, so say what to do instead. */
function refuseCompressed(source: { path: string; text: string }): void {
  if (/\.(gz|zip|bz2)$/i.test(source.path) || source.text.startsWith('\u001f\u008b') || source.text.startsWith('\u001f\uFFFD')) {
    const name = baseName(source.path);
    throw new ApiError('invalid-input', `${name} is compressed; unpack it first (e.g. "gunzip ${name}") and choose the unpacked file.`);
  }
}

/** Reads, propagates and filters: the label matrix of a dataset's proteins (ids in dataset order). */
export function readLabelMatrix(datasetIds: readonly string[], sources: AnnotationSources, options: LabelMatrixOptions & GafOptions = {}): LabelMatrix {
  refuseCompressed(sources.annotations);
  if (sources.ontology) refuseCompressed(sources.ontology);
  const ontology: Ontology | null = sources.ontology ? parseObo(baseName(sources.ontology.path), sources.ontology.text) : null;
  const file = readAnnotations(sources.annotations.path, sources.annotations.text, options);
  return buildLabelMatrix(datasetIds, propagateAnnotations(file, ontology), ontology, options);
}
