/**
 * lib/selection.svelte — what several pages share about one protein: the residue position the
 * user picked, and a per-residue track another page offers for colouring (the variants page's
 * per-position effect, or per-residue predictions). The Structure page reads both and sets the
 * position when a residue is clicked; the variants heatmap can set both.
 */

/** A value per residue of `sequence` (index 0 = residue 1); null where there is none. */
export interface ResidueTrack {
  /** What the values are, as the legend names them (e.g. "Mean variant effect (ESM-2 650M)"). */
  label: string;
  /** The protein sequence the values belong to; the Structure page uses it only when it matches. */
  sequence: string;
  values: (number | null)[];
  /** 'diverging' for signed scores centred on 0 (variant effects), 'sequential' otherwise. */
  scale: 'sequential' | 'diverging';
  /** Which page set it (e.g. "variants"), for the user's orientation. */
  source: string;
}

class SelectionStore {
  /** 1-based residue position in the current protein's sequence, or null. */
  selectedPosition = $state<number | null>(null);
  residueTrack = $state.raw<ResidueTrack | null>(null);

  selectPosition(position: number | null): void {
    this.selectedPosition = position;
  }

  setTrack(track: ResidueTrack | null): void {
    this.residueTrack = track;
  }
}

export const selection = new SelectionStore();
