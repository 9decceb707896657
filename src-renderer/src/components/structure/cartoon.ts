/**
 * components/structure/cartoon — the cartoon of one chain as a three.js geometry: a smooth
 * Catmull–Rom curve through the Cα atoms, swept with an elliptical cross-section whose size
 * says the secondary structure (helix: a thick round tube; strand: a wide flat ribbon; coil: a
 * thin tube), blended over one residue at changes. Vertex colours give each residue its colour.
 */
import * as THREE from 'three';
import type { Rgb } from '../../lib/structure/colors';
import type { SecondaryStructure, Vec3 } from '../../lib/structure/types';

const SAMPLES_PER_RESIDUE = 6;
const RADIAL = 12;

/** Half-width (along the frame's normal) and half-height (along its binormal), in Å. */
const SECTION: Record<SecondaryStructure, [number, number]> = {
  helix: [1.25, 1.25],
  strand: [1.6, 0.35],
  coil: [0.35, 0.35],
};

export interface CartoonInput {
  points: readonly Vec3[];
  ss: readonly SecondaryStructure[];
  colors: readonly Rgb[];
}

/** Tangents and rotation-minimising normals along the samples (no flips at inflection points, unlike Frenet frames). */
function frames(points: THREE.Vector3[]): { tangents: THREE.Vector3[]; normals: THREE.Vector3[] } {
  const tangents = points.map((p, k) => {
    const a = points[Math.max(0, k - 1)]!;
    const b = points[Math.min(points.length - 1, k + 1)]!;
    return new THREE.Vector3().subVectors(b, a).normalize();
  });
  const first = tangents[0]!;
  const seed = Math.abs(first.x) < 0.9 ? new THREE.Vector3(1, 0, 0) : new THREE.Vector3(0, 1, 0);
  let normal = new THREE.Vector3().crossVectors(first, seed).normalize();
  const normals = tangents.map((t) => {
    // Remove the part along the new tangent: the normal turns as little as possible.
    normal = normal.clone().sub(t.clone().multiplyScalar(normal.dot(t))).normalize();
    return normal;
  });
  return { tangents, normals };
}

function sectionAt(ss: readonly SecondaryStructure[], u: number): [number, number] {
  const r0 = Math.floor(u);
  const r1 = Math.min(ss.length - 1, Math.ceil(u));
  const f = u - r0;
  const a = SECTION[ss[r0]!];
  const b = SECTION[ss[r1]!];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
}

export function buildCartoon({ points, ss, colors }: CartoonInput): THREE.BufferGeometry {
  const geometry = new THREE.BufferGeometry();
  if (points.length < 2) return geometry;
  const curve = new THREE.CatmullRomCurve3(points.map((p) => new THREE.Vector3(p.x, p.y, p.z)), false, 'centripetal');
  const count = (points.length - 1) * SAMPLES_PER_RESIDUE + 1;
  // getPoint(t) walks the control points evenly in t, so sample k sits at residue k / SAMPLES_PER_RESIDUE.
  const samples = Array.from({ length: count }, (_, k) => curve.getPoint(k / (count - 1)));
  const { tangents, normals } = frames(samples);
  const positions: number[] = [];
  const vertexNormals: number[] = [];
  const vertexColors: number[] = [];
  samples.forEach((centre, k) => {
    const u = k / SAMPLES_PER_RESIDUE;
    const [a, b] = sectionAt(ss, u);
    const n = normals[k]!;
    const bn = new THREE.Vector3().crossVectors(tangents[k]!, n);
    const color = colors[Math.round(u)]!;
    for (let r = 0; r <= RADIAL; r++) {
      const theta = (r / RADIAL) * Math.PI * 2;
      const c = Math.cos(theta);
      const s = Math.sin(theta);
      positions.push(centre.x + a * c * n.x + b * s * bn.x, centre.y + a * c * n.y + b * s * bn.y, centre.z + a * c * n.z + b * s * bn.z);
      // The normal of an ellipse (a cos θ, b sin θ) points along (b cos θ, a sin θ).
      const normal = n.clone().multiplyScalar(b * c).add(bn.clone().multiplyScalar(a * s)).normalize();
      vertexNormals.push(normal.x, normal.y, normal.z);
      vertexColors.push(...color);
    }
  });
  const indices: number[] = [];
  for (let k = 0; k < count - 1; k++) {
    for (let r = 0; r < RADIAL; r++) {
      const i0 = k * (RADIAL + 1) + r;
      const i1 = i0 + RADIAL + 1;
      indices.push(i0, i1, i0 + 1, i1, i1 + 1, i0 + 1);
    }
  }
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(positions, 3));
  geometry.setAttribute('normal', new THREE.Float32BufferAttribute(vertexNormals, 3));
  geometry.setAttribute('color', new THREE.Float32BufferAttribute(vertexColors, 3));
  geometry.setIndex(indices);
  return geometry;
}

/** Rewrites the vertex colours of a cartoon built for the same chain (no new geometry when a track changes). */
export function recolorCartoon(geometry: THREE.BufferGeometry, colors: readonly Rgb[]): void {
  const attribute = geometry.getAttribute('color') as THREE.BufferAttribute | undefined;
  if (!attribute) return;
  const ring = RADIAL + 1;
  const rings = attribute.count / ring;
  for (let k = 0; k < rings; k++) {
    const color = colors[Math.round(k / SAMPLES_PER_RESIDUE)]!;
    for (let r = 0; r < ring; r++) attribute.setXYZ(k * ring + r, color[0], color[1], color[2]);
  }
  attribute.needsUpdate = true;
}
