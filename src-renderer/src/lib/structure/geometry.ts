/**
 * lib/structure/geometry — the arithmetic behind the overlays: which predicted contacts pass the
 * threshold, the structure's own Cα–Cα contact map in sequence coordinates (via the alignment),
 * and which residue a click's ray points at. Plain numbers, no three.js, so it is testable.
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

/** Squared distance from `point` to the ray origin + t·direction (t ≥ 0), and t. */
function rayDistance(origin: Vec3, direction: Vec3, point: Vec3): { d2: number; t: number } {
  const len = Math.hypot(direction.x, direction.y, direction.z) || 1;
  const ux = direction.x / len;
  const uy = direction.y / len;
  const uz = direction.z / len;
  const vx = point.x - origin.x;
  const vy = point.y - origin.y;
  const vz = point.z - origin.z;
  const t = Math.max(0, vx * ux + vy * uy + vz * uz);
  const dx = vx - t * ux;
  const dy = vy - t * uy;
  const dz = vz - t * uz;
  return { d2: dx * dx + dy * dy + dz * dz, t };
}

/**
 * The residue a click points at: of the Cα within `radius` Å of the ray, the one nearest the
 * camera (what the user sees in front). −1 when none is close enough.
 */
export function pickAlongRay(origin: Vec3, direction: Vec3, points: readonly Vec3[], radius = 2.5): number {
  let best = -1;
  let bestT = Infinity;
  points.forEach((point, k) => {
    const { d2, t } = rayDistance(origin, direction, point);
    if (d2 <= radius * radius && t < bestT) {
      best = k;
      bestT = t;
    }
  });
  return best;
}

export function centroid(points: readonly Vec3[]): Vec3 {
  const c = { x: 0, y: 0, z: 0 };
  for (const p of points) {
    c.x += p.x / points.length;
    c.y += p.y / points.length;
    c.z += p.z / points.length;
  }
  return c;
}

export function radiusAround(points: readonly Vec3[], centre: Vec3): number {
  return Math.max(1, ...points.map((p) => distance(p, centre)));
}

const dot = (a: Vec3, b: Vec3): number => a.x * b.x + a.y * b.y + a.z * b.z;
const normalize = (v: Vec3): Vec3 => {
  const n = Math.hypot(v.x, v.y, v.z) || 1;
  return { x: v.x / n, y: v.y / n, z: v.z / n };
};

const row = (m: number[][], r: number): Vec3 => ({ x: m[r]![0]!, y: m[r]![1]!, z: m[r]![2]! });
const multiply = (m: number[][], v: Vec3): Vec3 => ({ x: dot(row(m, 0), v), y: dot(row(m, 1), v), z: dot(row(m, 2), v) });

/** The dominant eigenvector of a symmetric 3×3 matrix (rows), by power iteration. */
function dominant(m: number[][], start: Vec3): Vec3 {
  let v = normalize(start);
  for (let k = 0; k < 100; k++) v = normalize(multiply(m, v));
  return v;
}

/**
 * The two directions along which the points spread most (principal axes): the initial view looks
 * along the third, so a structure is seen broadside rather than end-on, its longest extent across
 * the screen.
 */
export function principalAxes(points: readonly Vec3[]): { first: Vec3; second: Vec3 } {
  const c = centroid(points);
  const m = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (const p of points) {
    const d = [p.x - c.x, p.y - c.y, p.z - c.z];
    for (let r = 0; r < 3; r++) for (let s = 0; s < 3; s++) m[r]![s]! += d[r]! * d[s]!;
  }
  const first = dominant(m, { x: 1, y: 0.7, z: 0.3 });
  // Deflate: remove the first axis's share, then the next-largest remains.
  const lambda = dot(first, multiply(m, first));
  const f = [first.x, first.y, first.z];
  const deflated = m.map((row, r) => row.map((value, s) => value - lambda * f[r]! * f[s]!));
  let second = dominant(deflated, { x: 0.3, y: 1, z: 0.6 });
  // Keep it exactly perpendicular to the first (power iteration leaves a little of it).
  const along = dot(second, first);
  second = normalize({ x: second.x - along * first.x, y: second.y - along * first.y, z: second.z - along * first.z });
  return { first, second };
}
