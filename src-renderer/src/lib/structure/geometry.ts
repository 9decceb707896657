/**
 * lib/structure/geometry — the arithmetic behind the overlays: which predicted contacts pass the
 * threshold and the structure's own Cα–Cα contact map in sequence coordinates (via the
 * alignment). Picking and camera framing are Mol*'s (components/structure/molstar-viewer).
 */
import { distance } from './secondary';
import type { Vec3 } from './types';

/** Contacts this close in sequence are trivial (helix neighbours); ESM-2's own evaluation skips |i − j| < 6. */
export const MIN_SEPARATION = 6;
/** Cα–Cα distance under which two residues of the structure are in contact. */
export const CONTACT_CUTOFF = 8;

export interface Contact {
  i: number;
  j: number;
  p: number;
}

/** Pairs i < j (j − i ≥ minSeparation) of an L×L probability matrix with p ≥ threshold, strongest first. */
export function predictedContacts(probabilities: ArrayLike<number>, length: number, threshold: number, minSeparation = MIN_SEPARATION): Contact[] {
  const out: Contact[] = [];
  for (let i = 0; i < length; i++) {
    for (let j = i + minSeparation; j < length; j++) {
      const p = probabilities[i * length + j]!;
      if (p >= threshold) out.push({ i, j, p });
    }
  }
  return out.sort((a, b) => b.p - a.p);
}

/**
 * The structure's contacts in sequence coordinates: `positions[k]` is the sequence position of
 * trace residue k (−1 when unaligned). Returns an L×L matrix: 1 = contact, 0 = no contact,
 * 255 = unknown (a position the structure does not cover).
 */
export function structureContactMap(trace: readonly Vec3[], positions: ArrayLike<number>, length: number, cutoff = CONTACT_CUTOFF): Uint8Array {
  const map = new Uint8Array(length * length).fill(255);
  const placed: { p: number; at: Vec3 }[] = [];
  trace.forEach((at, k) => {
    const p = positions[k]!;
    if (p >= 0 && p < length) placed.push({ p, at });
  });
  for (const a of placed) {
    for (const b of placed) {
      map[a.p * length + b.p] = distance(a.at, b.at) < cutoff ? 1 : 0;
    }
  }
  return map;
}
