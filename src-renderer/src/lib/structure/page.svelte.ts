/**
 * lib/structure/page.svelte — the Structure page's state, kept while the user visits other pages:
 * the opened file (parsed here for chains and alignment, its content kept for the Mol* view) and
 * chosen chain, the dataset sequence it is aligned to, the model analysis (contacts and attention,
 * computed by a job; attention only for a model without a contact head, e.g. ESM C, whose linked
 * map then shows attention), the colour track, the styles and the contact filter. A mutation scan's
 * wild type is offered beside its variants; a saturation map of the project colours residues by mean
 * variant effect, and the chosen map and track are remembered across reloads.
 * Everything shown is derived from these few choices.
 */
import { positionMeans } from '../../../../src-main/core/saturation-summary';
import { datasets } from '../datasets.svelte';
import { readSetting, writeSetting } from '../storage';
import { api } from '../transport';
import { selection } from '../selection.svelte';
import type { SequenceRow } from '../types';
import type { AttentionMap, AttentionTrack, SaturationMap, StructureAnalysis, StructureContacts } from '../../../../src-main/api/schemas';
import { alignSequences, type Alignment } from './align';
import { scaleFor, type Rgb, type Scale } from './colors';
import { effectiveThreshold, selectContacts, type ContactMode } from './contacts';
import { MIN_SEPARATION, structureContactMap, type Contact } from './geometry';
import { bestMatch } from './match';
import { openStructure, type StructureSource } from './parse';
import { positionsByResidue, secondaryColorsByResidue, trackColorsByResidue } from './residue-maps';
import { chainSequence, traceResidues, type Residue, type Structure } from './types';

export type TrackKind = 'secondary' | 'plddt' | 'attention' | 'contacts' | 'variants' | 'shared';
const TRACKS: readonly TrackKind[] = ['secondary', 'plddt', 'attention', 'contacts', 'variants', 'shared'];

/** Index of a mutation scan's wild type among the page's sequences (it is not a row of the dataset). */
export const WILD_TYPE_INDEX = -1;

/** Lines beyond this many (the strongest are kept) clutter the view and slow it down. */
export const MAX_CONTACT_LINES = 3000;

/** Sequences offered for alignment: the API's page limit. */
const SEQUENCE_LIMIT = 5000;

class StructurePage {
  structure = $state.raw<Structure | null>(null);
  source = $state.raw<StructureSource | null>(null);
  fileName = $state('');
  error = $state<string | null>(null);
  chainIndex = $state(0);

  datasetId = $state<number | null>(null);
  sequences = $state.raw<SequenceRow[]>([]);
  sequenceIndex = $state(0);

  modelId = $state<number | null>(null);
  analysis = $state.raw<StructureAnalysis | null>(null);
  contacts = $state.raw<StructureContacts | null>(null);
  attention = $state.raw<AttentionTrack | null>(null);
  /** The layer's whole attention map, loaded only for a model without a contact head (the linked map shows it). */
  attentionMap = $state.raw<AttentionMap | null>(null);

  /** Remembered across reloads (with the saturation map), so a variant-effect colouring comes back. */
  track = $state<TrackKind>(rememberedTrack());
  /** The saturation-map run colouring the 'variants' track, and which of its maps (a model, or the ensemble). */
  variantRunId = $state<number | null>(null);
  variantMap = $state.raw<SaturationMap | null>(null);
  variantModel = $state(0);
  layer = $state(1);
  /** 0-based head, or -1 for the mean of the heads (a select's value cannot be null). */
  head = $state(-1);
  direction = $state<'from' | 'to'>('to');
  threshold = $state(0.5);
  contactMode = $state<ContactMode>('threshold');
  separation = $state(MIN_SEPARATION);
  cartoon = $state(true);
  surface = $state(false);
  ballAndStick = $state(false);
  #attentionRequest = 0;
  #attentionMapRequest = 0;

  chain = $derived(this.structure?.chains[this.chainIndex] ?? null);
  trace = $derived<Residue[]>(this.chain ? traceResidues(this.chain) : []);
  sequence = $derived(this.sequences[this.sequenceIndex] ?? null);
  alignment = $derived<Alignment | null>(this.chain && this.sequence ? alignSequences(chainSequence(this.chain), this.sequence.sequence) : null);
  /** The analysis belongs to the chosen sequence (it may still be the previous one's while switching). */
  analysisMatches = $derived(!!this.contacts && !!this.sequence && this.contacts.sequence === this.sequence.sequence.toUpperCase());
  /** The analysis shown is attention only (its model has no contact head). */
  attentionOnly = $derived(this.analysisMatches && this.contacts?.contacts === null);
  /** What the linked map's upper triangle shows: predicted contacts, or (attention only) the layer's attention. */
  mapValues = $derived.by<readonly number[] | null>(() => {
    if (!this.analysisMatches || !this.contacts) return null;
    if (this.contacts.contacts) return this.contacts.contacts;
    return this.attentionMap?.key === this.analysis?.key ? (this.attentionMap?.values ?? null) : null;
  });

  /** The track's values in sequence coordinates (index = position − 1), or null when it has none. */
  trackValues = $derived.by<(number | null)[] | null>(() => {
    const length = this.sequence?.length ?? 0;
    if (this.track === 'attention') return this.analysisMatches && this.attention ? this.attention.values : null;
    if (this.track === 'contacts') return this.analysisMatches && this.contacts?.contacts ? contactNumbers(this.contacts.contacts, length) : null;
    if (this.track === 'variants') return this.variantMatches ? this.variantMeans : null;
    if (this.track === 'shared') {
      const shared = selection.residueTrack;
      return shared && this.sequence && shared.sequence.toUpperCase() === this.sequence.sequence.toUpperCase() ? shared.values : null;
    }
    return null;
  });

  /** The chosen saturation map is of the chosen sequence (its wild type). */
  variantMatches = $derived(!!this.variantMap && !!this.sequence && this.variantMap.wildType.toUpperCase() === this.sequence.sequence.toUpperCase());
  /** Per position: the mean effect of its substitutions in the chosen model's map (negative: damaging). */
  variantMeans = $derived.by<(number | null)[]>(() => {
    const map = this.variantMap;
    const scores = map?.maps[this.variantModel]?.scores;
    return map && scores ? positionMeans(map.wildType, map.aminoAcids, scores) : [];
  });

  scale = $derived<Scale>(
    scaleFor(this.trackValues ?? [], this.track === 'variants' || (this.track === 'shared' && selection.residueTrack?.scale === 'diverging') ? 'diverging' : 'sequential'),
  );

  /** Sequence position (0-based) of each aligned residue of the chosen chain, by residue key. */
  positionByResidue = $derived(positionsByResidue(this.chain, this.alignment?.aToB));
  /** Secondary structure (from the file, else from Cα geometry) of every residue of every chain, by residue key. */
  secondaryColors = $derived(secondaryColorsByResidue(this.structure));
  /** The track's colour of every aligned residue of the chosen chain, by residue key (the others show as missing). */
  trackColors = $derived(this.trackValues ? trackColorsByResidue(this.positionByResidue, this.trackValues, this.scale) : new Map<string, Rgb>());

  /** Predicted contacts the filter keeps (threshold or top L…, at the separation), strongest first. */
  keptContacts = $derived.by<Contact[]>(() => {
    if (!this.analysisMatches || !this.contacts?.contacts) return [];
    return selectContacts(this.contacts.contacts, this.contacts.length, { mode: this.contactMode, threshold: this.threshold, separation: this.separation });
  });

  /** The kept contacts with both ends in the structure, as drawn in 3D. */
  shownContacts = $derived.by<Contact[]>(() => {
    if (!this.alignment) return [];
    const placed = new Set(Array.from(this.alignment.aToB).filter((p) => p >= 0));
    return this.keptContacts.filter((c) => placed.has(c.i) && placed.has(c.j)).slice(0, MAX_CONTACT_LINES);
  });

  /** The probability from which the contact map marks a pair as shown. */
  mapThreshold = $derived(effectiveThreshold(this.keptContacts, { mode: this.contactMode, threshold: this.threshold, separation: this.separation }));

  /** The structure's Cα contacts (< 8 Å) in sequence coordinates, for the contact map's lower triangle. */
  structureMap = $derived.by<Uint8Array | null>(() => {
    if (!this.alignment || !this.sequence) return null;
    return structureContactMap(this.trace.map((r) => r.ca!), this.alignment.aToB, this.sequence.length);
  });

  async open(file: File): Promise<void> {
    this.error = null;
    try {
      const { structure, source } = await openStructure(file.name, new Uint8Array(await file.arrayBuffer()));
      this.structure = structure;
      this.source = source;
      this.fileName = file.name;
      // The longest chain is the usual protein of interest.
      this.chainIndex = structure.chains.reduce((best, c, i, all) => (c.residues.length > all[best]!.residues.length ? i : best), 0);
      selection.selectPosition(null);
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  async chooseDataset(datasetId: number | null): Promise<void> {
    this.datasetId = datasetId;
    this.sequences = [];
    this.sequenceIndex = 0;
    if (datasetId === null) return;
    const page = await api.call('datasets.sequences', { datasetId, offset: 0, limit: SEQUENCE_LIMIT });
    if (this.datasetId !== datasetId) return;
    // A mutation scan's rows are variants; its wild type (the protein a structure shows) comes first.
    const scan = datasets.list.find((d) => d.id === datasetId)?.variants;
    const wildType: SequenceRow[] = scan
      ? [{ index: WILD_TYPE_INDEX, seqId: /^wild[_ -]?type$/i.test(scan.wildTypeId) ? 'Wild type' : `Wild type (${scan.wildTypeId})`, sequence: scan.wildType, length: scan.wildType.length, labels: {} }]
      : [];
    this.sequences = [...wildType, ...page.rows];
    this.matchSequence();
  }

  setTrack(track: TrackKind): void {
    this.track = track;
    writeSetting('structure.track', track);
  }

  /** Colours by this saturation-map run (null: none); remembered for the project. */
  async chooseVariantRun(projectId: number, runId: number | null): Promise<void> {
    this.variantRunId = runId;
    this.variantMap = null;
    writeSetting(`structure.variantRun.${projectId}`, runId === null ? null : String(runId));
    if (runId === null) return;
    const map = await api.call('variants.saturation', { runId });
    if (this.variantRunId !== runId) return;
    this.variantMap = map;
    // The last map is the ensemble when there are several models.
    this.variantModel = map.maps.length - 1;
  }

  /** The project's remembered saturation map, when it is still among `runIds` and not loaded yet. */
  async restoreVariantRun(projectId: number, runIds: readonly number[]): Promise<void> {
    const saved = Number(readSetting(`structure.variantRun.${projectId}`));
    if (this.variantRunId !== null || !runIds.includes(saved)) return;
    await this.chooseVariantRun(projectId, saved);
  }

  /** Picks the dataset sequence the chosen chain aligns to best. */
  matchSequence(): void {
    if (!this.chain || this.sequences.length === 0) return;
    const best = bestMatch(chainSequence(this.chain), this.sequences.map((s) => s.sequence));
    if (best >= 0) this.sequenceIndex = best;
  }

  /** Asks for the model's contacts and attention of the chosen sequence (a job unless computed before). */
  async compute(projectId: number): Promise<void> {
    if (this.modelId === null || !this.sequence) return;
    this.contacts = null;
    this.attention = null;
    this.attentionMap = null;
    this.analysis = await api.call('structure.inspect', { projectId, modelId: this.modelId, sequence: this.sequence.sequence, label: this.sequence.seqId });
    if (this.analysis.ready) await this.loadResults(projectId);
  }

  async loadResults(projectId: number): Promise<void> {
    const analysis = this.analysis;
    if (!analysis) return;
    const contacts = await api.call('structure.contacts', { projectId, key: analysis.key });
    if (this.analysis?.key !== analysis.key) return;
    this.analysis = { ...analysis, ready: true, job: null, heads: contacts.heads, layers: contacts.layers };
    this.contacts = contacts;
    this.layer = Math.min(Math.max(1, this.layer), contacts.layers);
    if (this.track === 'secondary' || this.track === 'plddt' || (this.track === 'contacts' && contacts.contacts === null)) this.track = 'attention';
    await this.loadAttention(projectId);
  }

  async loadAttention(projectId: number): Promise<void> {
    const analysis = this.analysis;
    if (!analysis?.ready) return;
    const request = ++this.#attentionRequest;
    const position = selection.selectedPosition;
    const track = await api.call('structure.attention', {
      projectId,
      key: analysis.key,
      layer: this.layer,
      head: this.head < 0 ? null : this.head,
      position: position === null || !this.sequence || position > this.sequence.length ? null : position - 1,
      direction: this.direction,
    });
    if (request === this.#attentionRequest) this.attention = track;
    if (!analysis.hasContacts) await this.loadAttentionMap(projectId, analysis);
  }

  /** The layer's map (the chosen head or the mean) for the linked map of an attention-only analysis. */
  private async loadAttentionMap(projectId: number, analysis: StructureAnalysis): Promise<void> {
    const head = this.head < 0 ? null : this.head;
    // A click on a residue changes the track, not the map: keep the map already loaded.
    const loaded = this.attentionMap;
    if (loaded && loaded.key === analysis.key && loaded.layer === this.layer && loaded.head === head) return;
    const request = ++this.#attentionMapRequest;
    const map = await api.call('structure.attentionMap', { projectId, key: analysis.key, layer: this.layer, head });
    if (request === this.#attentionMapRequest) this.attentionMap = map;
  }
}

function rememberedTrack(): TrackKind {
  const saved = readSetting('structure.track');
  return TRACKS.find((t) => t === saved) ?? 'secondary';
}

/** Per residue: the sum of its predicted contact probabilities with residues ≥ 6 apart (expected contact number). */
export function contactNumbers(probabilities: readonly number[], length: number): number[] {
  const out = new Array<number>(length).fill(0);
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < length; j++) if (Math.abs(i - j) >= MIN_SEPARATION) out[i]! += probabilities[i * length + j]!;
  }
  return out;
}

export const structurePage = new StructurePage();
