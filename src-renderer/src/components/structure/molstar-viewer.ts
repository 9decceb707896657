/**
 * components/structure/molstar-viewer — the Structure page's 3D view on Mol* (the viewer of the
 * PDB, PDBe and AlphaFold DB), without Mol*'s React interface: the page's own controls drive it.
 * It loads mmCIF, PDB or BinaryCIF; draws cartoon, molecular surface and ball-and-stick; colours
 * residues by secondary structure, AlphaFold's pLDDT (the B-factor column, in AlphaFold DB's four
 * bands) or one of ESM Studio's tracks (a custom Mol* colour theme fed with a colour per residue);
 * draws predicted contacts as dashed lines between Cα atoms; selects, focuses and measures residues;
 * and reports clicks and hovers as residue keys (chain, author number, insertion code).
 * This module is loaded with a dynamic import only, so Mol* (a few MB) stays out of the other pages.
 */
import { Lines } from 'molstar/lib/mol-geo/geometry/lines/lines';
import { LinesBuilder } from 'molstar/lib/mol-geo/geometry/lines/lines-builder';
import { Shape } from 'molstar/lib/mol-model/shape';
import { Bond, StructureElement, StructureProperties, StructureSelection, type Structure as MolStructure } from 'molstar/lib/mol-model/structure';
import { PluginConfig } from 'molstar/lib/mol-plugin/config';
import { PluginContext } from 'molstar/lib/mol-plugin/context';
import { DefaultPluginSpec, type PluginSpec } from 'molstar/lib/mol-plugin/spec';
import { ShapeRepresentation } from 'molstar/lib/mol-repr/shape/representation';
import { MolScriptBuilder as MS } from 'molstar/lib/mol-script/language/builder';
import { Script } from 'molstar/lib/mol-script/script';
import type { ColorTheme } from 'molstar/lib/mol-theme/color';
import { ColorThemeCategory } from 'molstar/lib/mol-theme/color/categories';
import type { ThemeDataContext } from 'molstar/lib/mol-theme/theme';
import { Color } from 'molstar/lib/mol-util/color';
import { ParamDefinition as PD } from 'molstar/lib/mol-util/param-definition';
import type { Location } from 'molstar/lib/mol-model/location';
import { PLDDT_BANDS, plddtBand, type Rgb } from '../../lib/structure/colors';
import { residueKey, type ResidueRef, type Vec3 } from '../../lib/structure/types';

export type StructureFormat = 'mmcif' | 'pdb' | 'bcif';

/** How residues are coloured: pLDDT bands, or a colour per residue key (secondary structure and the tracks). */
export type Coloring = { kind: 'plddt' } | { kind: 'track'; colors: ReadonlyMap<string, Rgb>; missing: Rgb };

export interface Styles {
  cartoon: boolean;
  surface: boolean;
  ballAndStick: boolean;
}

export interface ContactLine {
  a: Vec3;
  b: Vec3;
  /** 0 … 1: how far above the cut-off the probability is (darker, thicker lines). */
  strength: number;
}

/** A residue under the pointer, with where the pointer is (CSS pixels from the view's top left corner). */
export interface Hovered {
  residue: ResidueRef;
  /** The hovered atom's B-factor (pLDDT in an AlphaFold model); null when the file has none. */
  bFactor: number | null;
  x: number;
  y: number;
}

const TRACK_THEME = 'esm-studio-track';
const PLDDT_THEME = 'esm-studio-plddt';
const toColor = ([r, g, b]: Rgb): Color => Color.fromNormalizedRgb(r, g, b);

/** Colourings handed to the track theme by key: Mol* theme parameters must stay plain values. */
const colorings = new Map<string, { colors: ReadonlyMap<string, Color>; missing: Color }>();
let coloringCounter = 0;

/** The atom a location stands for (a bond's first atom). */
function elementOf(location: Location): StructureElement.Location | null {
  if (StructureElement.Location.is(location)) return location;
  if (Bond.isLocation(location)) return StructureElement.Location.create(location.aStructure, location.aUnit, location.aUnit.elements[location.aIndex]);
  return null;
}

function residueOf(location: Location): ResidueRef | null {
  const element = elementOf(location);
  if (!element) return null;
  return {
    chain: StructureProperties.chain.auth_asym_id(element),
    seq: StructureProperties.residue.auth_seq_id(element),
    icode: StructureProperties.residue.pdbx_PDB_ins_code(element) ?? '',
    name: StructureProperties.atom.auth_comp_id(element),
  };
}

const TrackParams = { key: PD.Text('') };
type TrackParams = typeof TrackParams;

function trackTheme(_ctx: ThemeDataContext, props: PD.Values<TrackParams>): ColorTheme<TrackParams> {
  const coloring = colorings.get(props.key);
  const missing = coloring?.missing ?? Color(0x9ea3ab);
  return {
    factory: trackTheme,
    granularity: 'group',
    props,
    description: 'An ESM Studio track (attention, contact number, variant effect, prediction) per residue.',
    color: (location: Location): Color => {
      const residue = residueOf(location);
      return (residue && coloring?.colors.get(residueKey(residue))) ?? missing;
    },
  };
}

const TrackThemeProvider: ColorTheme.Provider<TrackParams, typeof TRACK_THEME> = {
  name: TRACK_THEME,
  label: 'ESM Studio track',
  category: ColorThemeCategory.Residue,
  factory: trackTheme,
  getParams: () => TrackParams,
  defaultValues: PD.getDefaultValues(TrackParams),
  isApplicable: () => true,
};

function maxBFactor(structure: MolStructure | undefined): number {
  let max = -Infinity;
  for (const model of structure?.models ?? []) {
    const column = model.atomicConformation.B_iso_or_equiv;
    for (let i = 0, n = column.rowCount; i < n; i++) max = Math.max(max, column.value(i));
  }
  return max;
}

type NoParams = Record<string, never>;

/** pLDDT as AlphaFold DB shows it: the B-factor column of an AlphaFold model, in four bands. */
function plddtTheme(ctx: ThemeDataContext, props: PD.Values<NoParams>): ColorTheme<NoParams> {
  const colors = PLDDT_BANDS.map((band) => toColor(band.color));
  // Some predictors (early ESMFold) write pLDDT on a 0–1 scale: read the whole model one way.
  const factor = maxBFactor(ctx.structure) <= 1 ? 100 : 1;
  return {
    factory: plddtTheme,
    granularity: 'group',
    props,
    description: 'pLDDT from the B-factor column (AlphaFold models): very high > 90, confident > 70, low > 50, very low.',
    color: (location: Location): Color => {
      const element = elementOf(location);
      return element ? colors[plddtBand(factor * StructureProperties.atom.B_iso_or_equiv(element))]! : colors[colors.length - 1]!;
    },
  };
}

const PlddtThemeProvider: ColorTheme.Provider<NoParams, typeof PLDDT_THEME> = {
  name: PLDDT_THEME,
  label: 'pLDDT (B-factor)',
  category: ColorThemeCategory.Atom,
  factory: plddtTheme,
  getParams: () => ({}),
  defaultValues: {},
  isApplicable: () => true,
};

type ContactShapeData = readonly ContactLine[];
const LINE_LIGHT: Rgb = [0.99, 0.72, 0.42];
const LINE_DARK: Rgb = [0.85, 0.33, 0.0];

function contactShape(_ctx: unknown, lines: ContactShapeData, _props: unknown, shape?: Shape<Lines>): Shape<Lines> {
  const builder = LinesBuilder.create(lines.length * 8, lines.length * 4, shape?.geometry);
  lines.forEach((line, group) => {
    // Dashed, like Mol*'s distance measurements: these are predicted, not observed, contacts.
    builder.addFixedCountDashes([line.a.x, line.a.y, line.a.z] as never, [line.b.x, line.b.y, line.b.z] as never, 7, group);
  });
  const colorOf = (group: number): Color => {
    const t = lines[group]?.strength ?? 0;
    const mix = (c: 0 | 1 | 2): number => LINE_LIGHT[c] + (LINE_DARK[c] - LINE_LIGHT[c]) * t;
    return toColor([mix(0), mix(1), mix(2)]);
  };
  return Shape.create(
    'Predicted contacts',
    lines,
    builder.getLines(),
    colorOf,
    // Line widths in pixels (with sizeFactor 1): thin enough that hundreds of lines leave the protein visible.
    (group) => 0.75 + 1.25 * (lines[group]?.strength ?? 0),
    () => 'Predicted contact',
  );
}

/** WebGL is drawn by the CPU (SwiftShader, llvmpipe, Microsoft Basic Render Driver). */
function softwareRendering(): boolean {
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return false;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|softpipe|basic render/i.test(renderer);
}

export class MolstarViewer {
  private readonly plugin: PluginContext;
  private structureRef: string | null = null;
  private polymerRef: string | null = null;
  private ligandRef: string | null = null;
  /** The polymer's representations (recoloured with the track); the ligands' keeps element colours. */
  private representations: string[] = [];
  private ligandRepresentation: string | null = null;
  private coloring: Coloring = { kind: 'track', colors: new Map(), missing: [0.62, 0.64, 0.67] };
  private styles: Styles = { cartoon: true, surface: false, ballAndStick: false };
  private contactRepr = ShapeRepresentation(contactShape as never, Lines.Utils);
  private contactsAdded = false;
  /** Changes run one after another: a recolour must not reach representations a restyle is deleting. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(plugin: PluginContext) {
    this.plugin = plugin;
  }

  /** Mounts Mol* in `host`; fails when the browser has no WebGL (the page says so and works without 3D). */
  static async create(host: HTMLDivElement, onpick: (residue: ResidueRef | null) => void, onhover: (hovered: Hovered | null) => void): Promise<MolstarViewer> {
    const spec = DefaultPluginSpec();
    // The page's background shows through; no axes helper.
    const canvas3d: Record<string, unknown> = { ...spec.canvas3d, transparentBackground: true, camera: { helper: { axes: { name: 'off', params: {} } } } };
    if (softwareRendering()) {
      // Without a GPU (remote desktops, virtual machines, headless test browsers) every frame is drawn by the CPU:
      // ambient occlusion, outlines, shadows and progressive anti-aliasing would make the view crawl.
      canvas3d.multiSample = { mode: 'off' };
      canvas3d.postprocessing = { occlusion: { name: 'off', params: {} }, outline: { name: 'off', params: {} }, shadow: { name: 'off', params: {} } };
      // WebGL 1 makes Mol* pick synchronously: its asynchronous picking (WebGL 2) gives up after a few frames,
      // which a CPU renderer needs, so hovering would never find a residue.
      spec.config = [...(spec.config ?? []), [PluginConfig.General.PreferWebGl1, true]];
    }
    spec.canvas3d = canvas3d as PluginSpec['canvas3d'];
    const plugin = new PluginContext(spec);
    await plugin.init();
    const mounted = await plugin.mountAsync(host, { checkeredCanvasBackground: false });
    if (!mounted || !plugin.canvas3d) {
      plugin.dispose();
      throw new Error('WebGL could not be started');
    }
    plugin.representation.structure.themes.colorThemeRegistry.add(TrackThemeProvider as never);
    plugin.representation.structure.themes.colorThemeRegistry.add(PlddtThemeProvider as never);
    const viewer = new MolstarViewer(plugin);
    plugin.behaviors.interaction.click.subscribe((event) => {
      if (viewer.structureRef === null) return;
      const loci = event.current.loci;
      if (StructureElement.Loci.is(loci) && !StructureElement.Loci.isEmpty(loci)) {
        onpick(residueOf(StructureElement.Loci.getFirstLocation(loci)!));
      }
    });
    plugin.behaviors.interaction.hover.subscribe((event) => {
      const loci = event.current.loci;
      const page = event.page;
      if (!page || !StructureElement.Loci.is(loci) || StructureElement.Loci.isEmpty(loci)) return onhover(null);
      const location = StructureElement.Loci.getFirstLocation(loci)!;
      const residue = residueOf(location);
      const bFactor = location.unit.model.atomicConformation.B_iso_or_equiv.isDefined ? StructureProperties.atom.B_iso_or_equiv(location) : null;
      onhover(residue ? { residue, bFactor, x: page[0]!, y: page[1]! } : null);
    });
    return viewer;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Replaces what is shown by the file's first model. */
  load(data: string | Uint8Array<ArrayBuffer>, format: StructureFormat, label: string): Promise<void> {
    return this.serial(() => this.loadNow(data, format, label));
  }

  private async loadNow(data: string | Uint8Array<ArrayBuffer>, format: StructureFormat, label: string): Promise<void> {
    await this.plugin.clear();
    this.contactsAdded = false;
    this.representations = [];
    this.ligandRepresentation = null;
    const raw = await this.plugin.builders.data.rawData({ data, label });
    const trajectory = await this.plugin.builders.structure.parseTrajectory(raw, format === 'pdb' ? 'pdb' : 'mmcif');
    const model = await this.plugin.builders.structure.createModel(trajectory);
    const structure = await this.plugin.builders.structure.createStructure(model);
    this.structureRef = structure.ref;
    this.polymerRef = (await this.plugin.builders.structure.tryCreateComponentStatic(structure, 'polymer'))?.ref ?? null;
    this.ligandRef = (await this.plugin.builders.structure.tryCreateComponentStatic(structure, 'ligand'))?.ref ?? null;
    await this.rebuildRepresentations();
    this.plugin.managers.camera.reset();
  }

  private colorTheme(): { name: string; params: Record<string, unknown> } {
    if (this.coloring.kind === 'plddt') return { name: PLDDT_THEME, params: {} };
    // A new key per colouring: Mol* recolours when the theme's parameters change.
    const key = `track-${++coloringCounter}`;
    colorings.clear();
    colorings.set(key, { colors: new Map([...this.coloring.colors].map(([k, rgb]) => [k, toColor(rgb)])), missing: toColor(this.coloring.missing) });
    return { name: TRACK_THEME, params: { key } };
  }

  private async rebuildRepresentations(): Promise<void> {
    const update = this.plugin.build();
    for (const ref of this.representations) update.delete(ref);
    if (this.ligandRepresentation) update.delete(this.ligandRepresentation);
    await update.commit();
    this.representations = [];
    this.ligandRepresentation = null;
    if (!this.polymerRef) return;
    const theme = this.colorTheme();
    const add = async (parent: string, type: string, extra: Record<string, unknown> = {}): Promise<void> => {
      const repr = await this.plugin.builders.structure.representation.addRepresentation(parent, { type, color: theme.name, colorParams: theme.params, typeParams: extra } as never);
      this.representations.push(repr.ref);
    };
    if (this.styles.cartoon) await add(this.polymerRef, 'cartoon');
    if (this.styles.ballAndStick) await add(this.polymerRef, 'ball-and-stick');
    if (this.styles.surface) await add(this.polymerRef, 'molecular-surface', { alpha: 0.55 });
    // Ligands always as ball-and-stick in element colours: they are what a pocket is about.
    if (this.ligandRef) {
      const repr = await this.plugin.builders.structure.representation.addRepresentation(this.ligandRef, { type: 'ball-and-stick', color: 'element-symbol' } as never);
      this.ligandRepresentation = repr.ref;
    }
  }

  setColoring(coloring: Coloring): Promise<void> {
    return this.serial(() => this.setColoringNow(coloring));
  }

  private async setColoringNow(coloring: Coloring): Promise<void> {
    this.coloring = coloring;
    const theme = this.colorTheme();
    const update = this.plugin.build();
    for (const ref of this.representations) {
      update.to(ref).update((old: Record<string, unknown>) => ({ ...old, colorTheme: { name: theme.name, params: theme.params } }));
    }
    await update.commit();
  }

  setStyles(styles: Styles): Promise<void> {
    return this.serial(async () => {
      const same = styles.cartoon === this.styles.cartoon && styles.surface === this.styles.surface && styles.ballAndStick === this.styles.ballAndStick;
      this.styles = { ...styles };
      if (!same || this.representations.length === 0) await this.rebuildRepresentations();
    });
  }

  /** Draws `lines` (replacing the previous ones); returns how many are drawn. */
  setContacts(lines: readonly ContactLine[]): Promise<number> {
    return this.serial(() => this.setContactsNow(lines));
  }

  private async setContactsNow(lines: readonly ContactLine[]): Promise<number> {
    const canvas = this.plugin.canvas3d;
    if (!canvas) return 0;
    if (lines.length === 0) {
      if (this.contactsAdded) canvas.remove(this.contactRepr);
      this.contactsAdded = false;
      canvas.requestDraw();
      return 0;
    }
    await this.contactRepr.createOrUpdate({ sizeFactor: 1 } as never, lines as never).run();
    if (!this.contactsAdded) canvas.add(this.contactRepr);
    this.contactsAdded = true;
    canvas.requestDraw();
    return lines.length;
  }

  private structure(): MolStructure | null {
    if (!this.structureRef) return null;
    const cell = this.plugin.state.data.cells.get(this.structureRef);
    return (cell?.obj?.data as MolStructure | undefined) ?? null;
  }

  /** The loci of a residue (or only its Cα with `caOnly`), or null when the structure has no such residue. */
  private loci(residue: ResidueRef, caOnly = false): StructureElement.Loci | null {
    const structure = this.structure();
    if (!structure) return null;
    const residueTest = MS.core.logic.and([
      MS.core.rel.eq([MS.struct.atomProperty.macromolecular.auth_seq_id(), residue.seq]),
      MS.core.rel.eq([MS.struct.atomProperty.macromolecular.pdbx_PDB_ins_code(), residue.icode]),
    ]);
    const expression = MS.struct.generator.atomGroups({
      'chain-test': MS.core.rel.eq([MS.struct.atomProperty.macromolecular.auth_asym_id(), residue.chain]),
      'residue-test': residueTest,
      ...(caOnly ? { 'atom-test': MS.core.rel.eq([MS.struct.atomProperty.macromolecular.label_atom_id(), 'CA']) } : {}),
    });
    const loci = StructureSelection.toLociWithSourceUnits(Script.getStructureSelection(expression, structure));
    return StructureElement.Loci.isEmpty(loci) ? null : loci;
  }

  /** Marks the residue (Mol*'s selection: green outline) and centres the camera on it; false when the structure has no such residue. */
  select(residue: ResidueRef | null): Promise<boolean> {
    return this.serial(async () => {
      const interactivity = this.plugin.managers.interactivity;
      interactivity.lociSelects.deselectAll();
      const loci = residue ? this.loci(residue) : null;
      if (!loci) return false;
      interactivity.lociSelects.selectOnly({ loci });
      this.plugin.managers.camera.focusLoci(loci, { extraRadius: 8 });
      return true;
    });
  }

  /** Adds a Cα–Cα distance measurement (Mol*'s dashed line with its label in Å). */
  measure(a: ResidueRef, b: ResidueRef): Promise<boolean> {
    return this.serial(() => this.measureNow(a, b));
  }

  private async measureNow(a: ResidueRef, b: ResidueRef): Promise<boolean> {
    const from = this.loci(a, true);
    const to = this.loci(b, true);
    if (!from || !to) return false;
    await this.plugin.managers.structure.measurement.addDistance(from, to);
    return true;
  }

  clearMeasurements(): Promise<void> {
    return this.serial(() => this.clearMeasurementsNow());
  }

  private async clearMeasurementsNow(): Promise<void> {
    const update = this.plugin.build();
    for (const cell of this.plugin.managers.structure.measurement.state.distances) update.delete(cell.transform.ref);
    await update.commit();
  }

  resetView(): void {
    this.plugin.managers.camera.reset();
  }

  dispose(): void {
    colorings.clear();
    this.plugin.dispose();
  }
}
